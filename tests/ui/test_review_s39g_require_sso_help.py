"""The SSO settings page's help under "Require SSO" says what the switch does since s39
(SPEC §8; docs/accounts.md): it refuses password sign-in *and* bars every session of the
tenant's members in its verified domains not signed in through this tenant's identity
provider, and it is switched on from a session signed in through that provider. The help
read "Refuse password sign-in for the tenant's members in its verified domains" only: an
owner pressing it from a password session met a refusal the page had not announced, and a
member signed in through another tenant's IdP lost the tenant unannounced."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client

from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def test_require_sso_help_names_sessions_and_how_to_switch_it_on() -> None:
    tenant, owner, _ = make_tenant(name="Initech")
    client = Client()
    client.force_login(owner)
    page = client.get("/accounts/sso/", {"tenant": tenant.public_id})
    assert page.status_code == 200
    html = page.content.decode()
    field = html[html.index('name="require_sso"') :]
    help_text = " ".join(unescape(re.sub(r"<[^>]+>", " ", field[: field.index("</div>")])).split()).lower()
    assert "password sign-in" in help_text, help_text
    assert "session" in help_text and "identity provider" in help_text, help_text
    assert "sign in through" in help_text, help_text
