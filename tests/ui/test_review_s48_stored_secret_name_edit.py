"""SPEC §2a "Admins ... may ... deactivate, revoke and narrow the keys of orgs they administer"
(these rules hold on every channel). Review s48 made a key's name refuse a live secret of this
deployment's keys, but the edit page posts every setting it shows, the name included, and the
service checked the name whether or not it changed: a key named before the check after the
key it replaces ("replaces tater_…") could no longer be narrowed on its page. An admin, whose
page shows the name without letting them change it, cutting its allowlist during an incident
got "Name holds an API key" for a name nobody touched, with no way past it. A name
left as it is is kept; a name changed to one holding a secret is still refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


def _as_browser_sends(page: Any) -> dict[str, Any]:
    form = page.context["form"]
    return {
        bound.html_name: "" if bound.value() is None else bound.value() for bound in form if not bound.field.disabled
    }


def test_an_admin_narrows_a_key_whose_stored_name_holds_a_secret(world: dict[str, Any], client_for: Any) -> None:
    key = world["member_key"]
    stored = f"replaces {world['owner_raw']}"
    ApiKey.objects.filter(pk=key.pk).update(name=stored)  # named before names were checked
    edit = reverse("apikey_edit", args=[key.public_id])
    admin = client_for(world["admin"])

    narrowed = {**_as_browser_sends(admin.get(edit)), "allowed_ips": "198.51.100.7"}
    response = admin.post(edit, narrowed)

    assert response.status_code == 302, response.content.decode()[:2000]
    key.refresh_from_db()
    assert key.allowed_ips == ["198.51.100.7/32"] and key.name == stored


def test_a_rename_to_a_secret_is_still_refused_on_the_page(world: dict[str, Any], client_for: Any) -> None:
    key = world["member_key"]
    edit = reverse("apikey_edit", args=[key.public_id])
    owner = client_for(key.owner)

    response = owner.post(edit, {**_as_browser_sends(owner.get(edit)), "name": f"see {world['owner_raw']}"})

    assert response.status_code == 400
    assert "Name holds an API key" in response.content.decode()
    key.refresh_from_db()
    assert key.name == "member key"
