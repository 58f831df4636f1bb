"""Found by an attacker review of the key API (2026-12-06), expectations from SPEC §2a
("Unknown or read-only fields ... are a 400 VALIDATION_ERROR, never ignored") and §3 ("bad
body or query: 400 VALIDATION_ERROR, names the failing field"):

the key endpoints read their own query parameters and silently dropped every other one.
An integrator rotating a leaked key with ``POST keys/{id}/rotate/?grace_period_seconds=0``
got a 200 and believed the leaked secret dead, while it kept working for the default 24
hours; ``GET keys/?organization_id=<org>`` (the hint misspelt) listed another org's keys as
if they were the named org's, ``GET keys/?statuss=revoked`` every key as if revoked, and
``GET keys/{id}/usage/?hour=48`` (or ``?hours=``) 24 hours as if 48.
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


def _refused(response: Any, name: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert name in body["details"]["fields"], body


@pytest.fixture
def caller(world: dict[str, Any]) -> tuple[ApiKey, str]:
    return make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["keys:write", "scans:read"])


def test_rotation_with_the_grace_period_in_the_query_is_refused_not_given_24_hours(api, caller):
    key, raw = caller
    digest = key.digest
    r = api.post(f"{KEYS}{key.public_id}/rotate/?grace_period_seconds=0", {}, format="json", HTTP_X_API_KEY=raw)
    _refused(r, "grace_period_seconds")
    assert "key" not in r.json()
    key.refresh_from_db()
    assert key.digest == digest and not key.previous_digest


def test_a_misspelt_org_hint_is_refused_not_answered_for_the_keys_own_org(api, world, caller):
    _, raw = caller
    r = api.get(f"{KEYS}?organization_id={world['org2'].public_id}", HTTP_X_API_KEY=raw)
    _refused(r, "organization_id")


def test_a_misspelt_list_filter_is_refused_not_a_list_of_everything(api, caller):
    _, raw = caller
    _refused(api.get(f"{KEYS}?statuss=revoked", HTTP_X_API_KEY=raw), "statuss")
    tatry = api.get("/v1/auth/keys?page=2", HTTP_X_API_KEY=raw)
    assert tatry.status_code == 400
    assert tatry.json()["error"]["details"]["tater_error"] == "VALIDATION_ERROR"
    assert "page" in tatry.json()["error"]["details"]["fields"]


def test_a_change_sent_as_query_parameters_is_refused_not_a_silent_no_op(api, caller):
    key, raw = caller
    r = api.patch(f"{KEYS}{key.public_id}/?allowed_ips=10.0.0.0/8", {}, format="json", HTTP_X_API_KEY=raw)
    _refused(r, "allowed_ips")
    r = api.post(f"{KEYS}{key.public_id}/deactivate/?active=false", HTTP_X_API_KEY=raw)
    _refused(r, "active")
    r = api.post(f"{KEYS}?scopes=scans:read", {"name": "child"}, format="json", HTTP_X_API_KEY=raw)
    _refused(r, "scopes")
    assert not ApiKey.objects.filter(name="child").exists()


def test_usage_refuses_an_unknown_or_blank_window(api, caller):
    key, raw = caller
    _refused(api.get(f"{KEYS}{key.public_id}/usage/?hour=48", HTTP_X_API_KEY=raw), "hour")
    _refused(api.get(f"{KEYS}{key.public_id}/usage/?hours=", HTTP_X_API_KEY=raw), "hours")


def test_the_documented_parameters_and_the_org_hints_still_work(api, world, caller):
    key, raw = caller
    org, tenant = world["org1"].public_id, world["tenant"].public_id
    r = api.get(
        f"{KEYS}?status=active&type=standard&binding=organization&limit=5&offset=0"
        f"&organizationId={org}&tenantId={tenant}",
        HTTP_X_API_KEY=raw,
    )
    assert r.status_code == 200, r.content
    assert api.get(f"{KEYS}{key.public_id}/usage/?days=2&organizationId={org}", HTTP_X_API_KEY=raw).status_code == 200
    assert api.get(f"{KEYS}{key.public_id}/?tenantId={tenant}", HTTP_X_API_KEY=raw).status_code == 200
    assert api.get("/v1/auth/keys?status=active&limit=10&offset=0", HTTP_X_API_KEY=raw).status_code == 200
