"""The key edit page refuses a page opened before the key's settings changed (s37). That
check ran in the view before the service locked the key: an admin's narrowing committed
between the owner's page being checked and the owner's save was still silently undone by
the owner's old values. The service compares the version the page showed under the key's
lock, so the owner gets the "changed since you opened this page" answer in that window too.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.urls import reverse

from apikeys import services
from apikeys.forms import ApiKeyEditForm
from audit.models import AuditEvent
from tater.exceptions import Conflict

pytestmark = pytest.mark.django_db


def _as_browser_sends(page: Any) -> dict[str, Any]:
    """What submitting the rendered form sends: every field with the value it shows."""
    data = {}
    for bound in page.context["form"]:
        if not bound.field.disabled:
            value = bound.value()
            data[bound.html_name] = "" if value is None else value
    return data


def _narrow_as_admin(world: dict[str, Any], client_for: Any, edit: str) -> None:
    admin = client_for(world["admin"])
    narrowed = _as_browser_sends(admin.get(edit))
    narrowed.update(perm_keys="read", perm_members="", allowed_ips="198.51.100.7")
    assert admin.post(edit, narrowed).status_code == 302


def test_a_narrowing_committed_after_the_pages_check_is_not_undone(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    edit = reverse("apikey_edit", args=[key.public_id])
    owner = client_for(world["owner"])
    stale = _as_browser_sends(owner.get(edit))
    _narrow_as_admin(world, client_for, edit)
    key.refresh_from_db()
    narrowed_scopes = list(key.scopes)

    # The admin's change commits after the view looked at the page (the race window): the
    # view's own early check sees nothing; only the service, under the lock, can tell.
    with mock.patch.object(ApiKeyEditForm, "is_stale", return_value=False):
        response = owner.post(edit, {**stale, "name": "renamed from an old tab"})

    key.refresh_from_db()
    assert key.scopes == narrowed_scopes and key.allowed_ips == ["198.51.100.7/32"]
    assert key.name == "owner key"
    assert AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).count() == 1
    assert response.status_code == 409
    assert "changed since you opened this page" in response.content.decode()
    form = response.context["form"]
    assert form["perm_keys"].value() == "read" and form["allowed_ips"].value() == "198.51.100.7/32"


def test_the_service_refuses_an_old_version_and_takes_the_current_one(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    edit = reverse("apikey_edit", args=[key.public_id])
    shown = client_for(world["owner"]).get(edit).context["form"]["seen"].value()
    _narrow_as_admin(world, client_for, edit)

    with pytest.raises(Conflict):
        services.apikey_update(api_key=key, actor=world["owner"], name="old tab", seen=shown)
    key.refresh_from_db()
    assert key.name == "owner key"

    current = client_for(world["owner"]).get(edit).context["form"]["seen"].value()
    services.apikey_update(api_key=key, actor=world["owner"], name="fresh tab", seen=current)
    key.refresh_from_db()
    assert key.name == "fresh tab" and key.allowed_ips == ["198.51.100.7/32"]
