"""Review s45: on the Activity Log, with a filter the page itself calls wrong ("To" before
"From", a date that does not exist), "Export CSV" was still offered; clicking it saved the
HTML page as "download.html" instead of a CSV (its export answered with a redirect back to
the page, which the link's ``download`` attribute turned into a file). The export is now
offered only while the filters are valid, and the page says to fix them first (SPEC §7, §9)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.ui import test_browser_product as product

browser = product.browser
open_as = product.open_as
pytestmark = product.pytestmark


def test_export_is_not_offered_for_filters_the_page_rejects(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("activity_log") + "?since=2026-12-10&until=2026-12-01")
    assert page.locator("#id_until_error").is_visible()
    assert page.get_by_role("link", name="Export CSV").count() == 0
    assert "fix the filters" in page.locator(".page-actions").inner_text().lower()


def test_export_with_valid_filters_downloads_a_csv(open_as: Any, world: dict[str, Any]) -> None:
    page = open_as(world["owner"])
    page.goto(reverse("activity_log") + "?channel=system")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    with open(download.value.path(), encoding="utf-8") as handle:
        assert handle.readline().startswith("id,time,channel,action")
