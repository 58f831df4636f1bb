"""Review s43 (mail and the Outbox): names are "one line of plain text" (tater.names), since
they are written into mail (key expiry notices, the leaked-key alert's list of keys made with
the leaked key, invitations) and the Outbox. Found by review: the Unicode line and paragraph
separators (U+2028, U+2029) passed, although mail readers, browsers (the Outbox's ``<pre>``)
and Python's ``splitlines`` all break the line there. Whoever held a leaked key could name a
key it made ``backup”<U+2029><U+2029>No other key was made with it…``: the leaked-key alert
written to catch them then showed their paragraphs as Tater's own. Such a name is now a 400
naming the field, like a line break (SPEC §2 keys' names, §14 leak mails; §3 VALIDATION_ERROR)."""

from __future__ import annotations

from typing import Any

import pytest

from orgs import services as org_services
from scim.services import tokens as token_services
from tater.exceptions import InvalidInput

pytestmark = pytest.mark.django_db

FORGED = [
    "backup\u2029\u2029No other key was made with it: nothing else to check.",
    "nightly\u2028Tater security: no action is needed",
]


@pytest.mark.parametrize("name", FORGED)
def test_a_key_name_with_a_unicode_line_break_is_a_400(api: Any, world: dict[str, Any], name: str) -> None:
    made = api.post("/api/v1/keys/", {"name": name}, format="json", HTTP_X_API_KEY=world["member_raw"])
    assert made.status_code == 400, made.json()
    assert made.json()["error"] == "VALIDATION_ERROR" and "name" in made.json()["details"]["fields"]
    key = world["member_key"]
    renamed = api.patch(
        f"/api/v1/keys/{key.public_id}/", {"name": name}, format="json", HTTP_X_API_KEY=world["member_raw"]
    )
    assert renamed.status_code == 400, renamed.json()
    key.refresh_from_db()
    assert key.name == "member key"


@pytest.mark.parametrize("name", FORGED)
def test_org_tenant_and_scim_token_names_with_a_unicode_line_break_are_refused(
    api: Any, world: dict[str, Any], name: str
) -> None:
    api.force_login(world["owner"])
    assert api.post("/api/v1/organizations/", {"name": name}, format="json").status_code == 400
    with pytest.raises(InvalidInput):
        org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], name=name)
    with pytest.raises(InvalidInput):
        token_services.scim_token_create(tenant=world["tenant"], name=name, actor=world["owner"])


def test_the_key_form_refuses_it_too(world: dict[str, Any], client: Any) -> None:
    client.force_login(world["member"])
    typed = {"type": "standard", "name": FORGED[0], "binding": "org", "preset": "read_only", "expires_in": "30"}
    page = client.post("/keys/new/", typed)
    assert page.status_code == 400
    assert "one line" in page.context["form"].errors["name"][0]
