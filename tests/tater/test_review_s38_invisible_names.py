"""A name people read in lists, the Activity Log and mail: a key named ``prod`` with a
zero-width space inside looked exactly like the team's real ``prod`` key (which one is
revoked? which one leaked?), and a name of Hangul fillers or zero-width spaces alone
showed as no name at all. Both are a 400 naming the field on every channel that takes a
name; joiners inside emoji sequences and Persian text stay allowed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


def _keys(world: dict[str, Any]) -> str:
    return f"/api/v1/keys/?organizationId={world['org1'].public_id}"


LOOKALIKES = ["pro\u200bd", "\ufeffprod", "prod\u2060", "\u200b", "\u3164", "\u2800\u2800", "\u200d"]
WRITTEN = ["👩\u200d💻 laptop", "می\u200cخواهم", "CI – build 2"]


@pytest.mark.parametrize("name", LOOKALIKES, ids=ascii)
def test_api_refuses_a_key_name_that_does_not_show_what_it_says(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_login(world["owner"])
    before = ApiKey.objects.count()
    r = api.post(_keys(world), {"name": name, "scopes": ["keys:read"]}, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "VALIDATION_ERROR" and list(r.json()["details"]["fields"]) == ["name"]
    assert "invisible" in r.json()["details"]["fields"]["name"][0]
    key = world["owner_key"]
    r = api.patch(
        f"/api/v1/keys/{key.public_id}/?organizationId={world['org1'].public_id}", {"name": name}, format="json"
    )
    assert r.status_code == 400, r.json()
    key.refresh_from_db()
    assert key.name == "owner key" and ApiKey.objects.count() == before


@pytest.mark.parametrize("name", WRITTEN, ids=ascii)
def test_names_written_with_joiners_are_kept(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_login(world["owner"])
    r = api.post(_keys(world), {"name": name, "scopes": ["keys:read"]}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["name"] == name


@pytest.mark.parametrize("name", ["Acme\u200b", "\u3164"], ids=ascii)
def test_organization_names_too(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_login(world["owner"])
    r = api.post("/api/v1/organizations/", {"name": name}, format="json")
    assert (r.status_code, list(r.json().get("details", {}).get("fields", {}))) == (400, ["name"]), r.json()
    r = api.patch(f"/api/v1/organizations/{world['org1'].public_id}/", {"name": name}, format="json")
    assert r.status_code == 400, r.json()


def test_the_create_page_reports_it_on_the_name_field(world: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world["owner"])
    typed = {"type": "standard", "name": "pro\u200bd", "binding": "org", "preset": "read_only", "expires_in": "30"}
    response = client.post(reverse("apikey_create"), typed)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["name"] and "invisible" in errors["name"][0]
