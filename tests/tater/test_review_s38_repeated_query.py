"""Found by an input review of the API (2026-12-06), expectations from SPEC §3 ("bad body
or query: 400 VALIDATION_ERROR, names the failing field"):

a query parameter sent twice with different values answered for the last one, silently.
``GET keys/?status=active&status=revoked`` listed the revoked keys as if asked for them
alone (a client that meant "either" saw its active keys missing), ``audit-log/?since=A&since=B``
filtered from B, ``audit-log/?format=csv&format=json`` answered JSON, Tatry's
``auth/keys?status=…&status=…`` the same. Only the org hint refused this (SPEC §4: "never
the last one silently winning"). Every parameter now does: a 400 naming it, in the
endpoint's own error format; the same value sent twice stays accepted, as for the hint.
"""

from __future__ import annotations

from typing import Any

import pytest

from scans.models import Scan

pytestmark = pytest.mark.django_db


def _refused(response: Any, name: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR", body
    assert name in body["details"]["fields"] and name in body["message"], body
    return body


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/keys/?status=active&status=revoked", "status"),
        ("/api/v1/keys/?limit=1&limit=200", "limit"),
        ("/api/v1/audit-log/?since=2026-01-01&since=2027-01-01", "since"),
        ("/api/v1/audit-log/?channel=api&channel=ui", "channel"),
        ("/api/v1/audit-log/?format=csv&format=json", "format"),
        ("/api/v1/scans/?scanner=nmap&scanner=zap", "scanner"),
    ],
)
def test_a_filter_sent_twice_with_different_values_is_refused(api, world, url, name):
    _refused(api.get(url, HTTP_X_API_KEY=world["owner_raw"]), name)


def test_members_list_refuses_a_repeated_paging_parameter(api, world):
    api.force_login(world["owner"])
    url = f"/api/v1/organizations/{world['org1'].public_id}/members/?limit=1&limit=2"
    _refused(api.get(url), "limit")


def test_a_write_with_a_repeated_parameter_writes_nothing(api, world):
    body = {"scanner": "nmap", "target": "10.0.0.1", "started_at": "2026-01-15T09:30:00Z"}
    org = world["org1"].public_id
    r = api.post(
        f"/api/v1/scans/upload?organizationId={org}&x=1&x=2", body, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    _refused(r, "x")
    assert not Scan.objects.exists()


def test_tatry_answers_in_its_own_shape(api, world):
    r = api.get("/v1/auth/keys?status=active&status=revoked", HTTP_AUTHORIZATION=f"Bearer {world['owner_raw']}")
    assert r.status_code == 400, r.content
    error = r.json()["error"]
    assert r.json()["status"] == "error" and error["code"] == "validation_error"
    assert "status" in error["details"]["fields"]


@pytest.mark.parametrize(
    "url", ["/api/v1/keys/?status=active&status=active", "/api/v1/audit-log/?channel=api&channel=api"]
)
def test_the_same_value_twice_is_accepted(api, world, url):
    assert api.get(url, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200


def test_a_caller_without_credentials_still_gets_401(api):
    assert api.get("/api/v1/keys/?status=active&status=revoked").status_code == 401
