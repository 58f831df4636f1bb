"""A key's edit page posts every setting it showed. An admin narrows a key during an incident
(no more keys:write, one address only); its owner, whose edit page was open since before,
only renames it and saves: the page sent the old permissions and allowlist, and as the
owner may widen their own key, the admin's narrowing was silently undone (SPEC §2a: admins
narrow; §9: nothing a person did is lost without a word). A page older than the key's
settings is refused with a clear error and shows the current settings instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _as_browser_sends(page: Any) -> dict[str, Any]:
    """What submitting the rendered form sends: every field with the value it shows."""
    form = page.context["form"]
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value = bound.value()
        data[bound.html_name] = "" if value is None else value
    return data


def test_a_stale_owner_page_does_not_undo_an_admins_narrowing(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]  # full access, owned by the tenant owner, in org1
    edit = reverse("apikey_edit", args=[key.public_id])
    owner, admin = client_for(world["owner"]), client_for(world["admin"])

    stale = _as_browser_sends(owner.get(edit))

    narrowed = _as_browser_sends(admin.get(edit))
    narrowed.update(perm_keys="read", perm_members="", allowed_ips="198.51.100.7")
    assert admin.post(edit, narrowed).status_code == 302
    key.refresh_from_db()
    assert "keys:write" not in str(key.scopes) and key.allowed_ips == ["198.51.100.7/32"]
    narrowed_scopes = list(key.scopes)

    response = owner.post(edit, {**stale, "name": "renamed from an old tab"})

    key.refresh_from_db()
    assert key.scopes == narrowed_scopes and key.allowed_ips == ["198.51.100.7/32"]
    assert key.name == "owner key"
    assert AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).count() == 1
    assert response.status_code in (400, 409)
    body = response.content.decode()
    assert "changed since you opened this page" in body
    # The page now shows the key as it is, ready to be changed again.
    form = response.context["form"]
    assert form["perm_keys"].value() == "read" and form["allowed_ips"].value() == "198.51.100.7/32"


def test_a_fresh_page_still_saves(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    edit = reverse("apikey_edit", args=[key.public_id])
    owner = client_for(world["owner"])
    assert owner.post(edit, {**_as_browser_sends(owner.get(edit)), "name": "renamed"}).status_code == 302
    key.refresh_from_db()
    assert key.name == "renamed"
    # And again from the page the redirect leads to (no stale refusal for one's own save).
    assert owner.post(edit, {**_as_browser_sends(owner.get(edit)), "name": "renamed twice"}).status_code == 302
    key.refresh_from_db()
    assert key.name == "renamed twice"
