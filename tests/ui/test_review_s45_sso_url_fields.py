"""Review s45: on the single sign-on settings page the two address fields, "Issuer URL" and
"IdP single sign-on URL", were drawn as narrow unstyled boxes (a third of the width of the
Client ID field beside them, no padding), so an issuer such as
https://login.microsoftonline.com/<tenant id>/v2.0 was cut off after a few characters while
typing it. URL inputs are now styled like every other text field (SPEC §8, §9)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_url_fields_are_as_wide_as_the_other_text_fields(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    for width in product.WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(reverse("accounts_sso_settings"))
        text_box = page.get_by_label("Client ID").bounding_box()
        for label in ("Issuer URL", "IdP single sign-on URL"):
            box = page.get_by_label(label).bounding_box()
            assert abs(box["width"] - text_box["width"]) < 2, (width, label, box, text_box)
            assert abs(box["height"] - text_box["height"]) < 2, (width, label, box, text_box)
