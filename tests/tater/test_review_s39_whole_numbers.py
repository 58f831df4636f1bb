"""Found by a review of API input consistency (2026-12-06), expectations from SPEC §3 ("bad
body or query: 400 VALIDATION_ERROR, names the failing field") and §5/§5a (the key list's
``limit``/``offset``, Tatry's ``/v1/auth/keys?limit``):

DRF reads a whole number with Python's ``int()``, so ``?limit=١٢`` (Arabic-Indic digits),
``?limit=%2012`` (a space), ``?limit=1_2``, ``?limit=+12``, ``?limit=12.0`` and a JSON body's
``"usage_limit": "١٢"``, ``12.0`` or ``"grace_period_seconds": " 10"`` were read as 12 or 10
on the key list and Tatry's, the key create/PATCH, the rotation, the usage window, the scan list,
the member list and a finding's port, while the enum-like fields beside them (``type``,
``status``) refuse ``"standard "``: an integrator could not tell which spelling a field takes.
One rule now, from ``tater.api.fields`` (README, "Design" → strict input): a whole number is a
JSON integer, or a string of ASCII digits 0-9 alone; anything else is a 400 naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"
NOT_WHOLE = ["١٢", "１２", " 12", "12 ", "+12", "1_2", "12.0", "0x0c", "12e0"]


def _refused(response: Any, name: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    fields = body["details"]["fields"] if "fields" in body.get("details", {}) else body["error"]["details"]["fields"]
    assert name in fields, body


@pytest.fixture
def caller(world: dict[str, Any]) -> tuple[Any, str]:
    world["tenant"].plan = "enterprise"  # room for every request below in one minute
    world["tenant"].save()
    return make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*"])


@pytest.mark.parametrize("value", NOT_WHOLE)
def test_query_numbers_are_ascii_digits_alone(api, world, caller, value):
    key, raw = caller
    h = {"HTTP_X_API_KEY": raw}
    org = world["org1"].public_id
    for url, name in [
        (KEYS, "limit"),
        (KEYS, "offset"),
        (f"{KEYS}{key.public_id}/usage/", "hours"),
        (f"{KEYS}{key.public_id}/usage/", "days"),
        ("/api/v1/scans/", "limit"),
        ("/api/v1/audit-log/", "limit"),
        (f"/api/v1/organizations/{org}/members/", "limit"),
    ]:
        _refused(api.get(url, {name: value}, **h), name)
    r = api.get("/v1/auth/keys", {"limit": value}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 400 and "limit" in r.json()["error"]["details"]["fields"], r.json()


@pytest.mark.parametrize("value", [*NOT_WHOLE, 12.0, True])
def test_body_numbers_are_json_integers_or_ascii_digits(api, world, caller, value):
    key, raw = caller
    h = {"HTTP_X_API_KEY": raw}
    _refused(api.post(KEYS, {"name": "n", "usage_limit": value}, format="json", **h), "usage_limit")
    _refused(api.patch(f"{KEYS}{key.public_id}/", {"usage_limit": value}, format="json", **h), "usage_limit")
    _refused(
        api.post(f"{KEYS}{key.public_id}/rotate/", {"grace_period_seconds": value}, format="json", **h),
        "grace_period_seconds",
    )
    upload = {
        "scanner": "nmap",
        "target": "10.0.0.1",
        "started_at": "2026-01-01T00:00:00Z",
        "findings": [{"title": "x", "severity": "low", "port": value}],
    }
    r = api.post("/api/v1/scans/upload", upload, format="json", **h)
    assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR", r.content
    key.refresh_from_db()
    assert key.usage_limit is None and not key.previous_digest


def test_plain_numbers_still_work(api, world, caller):
    key, raw = caller
    h = {"HTTP_X_API_KEY": raw}
    r = api.get(KEYS, {"limit": "12", "offset": "0"}, **h)
    assert r.status_code == 200 and r.json()["limit"] == 12
    assert api.get("/api/v1/audit-log/", {"limit": "7"}, **h).json()["limit"] == 7
    assert api.get("/v1/auth/keys", {"limit": "3"}, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    r = api.post(KEYS, {"name": "n", "usage_limit": 12}, format="json", **h)
    assert r.status_code == 201 and r.json()["usage_limit"] == 12
    r = api.post(KEYS, {"name": "n", "usage_limit": "12"}, format="json", **h)
    assert r.status_code == 201 and r.json()["usage_limit"] == 12
    other, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["scans:read"])
    r = api.post(f"{KEYS}{other.public_id}/rotate/", {"grace_period_seconds": 0}, format="json", **h)
    assert r.status_code == 200
    r = api.get(KEYS, {"limit": "0"}, **h)  # out of range: the range's message, not "not a number"
    assert r.status_code == 400 and "less" not in r.json()["message"] and "greater" in r.json()["message"]
