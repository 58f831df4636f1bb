"""Found by a review of key input consistency (2026-12-06), expectations from SPEC §2a
("Unknown or read-only fields in a body are a 400 VALIDATION_ERROR, never ignored") and §3
("bad body: 400 VALIDATION_ERROR, names the failing field"):

a key body's ``type``, ``status`` and ``usage_refill`` refuse ``"standard "``, yet
``"scopes": ["scans:read "]`` was trimmed and stored as ``scans:read``, ``"rate_limit": "٥/min"``
(Arabic-Indic five) or ``" 5/min"`` were stored as given and enforced as 5 a minute, and
``"unbound"`` took ``"true"``, ``"yes"``, ``1``, ``"no"``, ``0`` and ``"off"`` for booleans (DRF's
coercion): a typo such as ``"unbound": "false "`` or ``"unbound": "0"`` went through as a value
the client never wrote. One spelling per value now (README, Design): scopes as listed, a rate
limit in ASCII without surrounding spaces, booleans as JSON ``true``/``false``.
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
    assert body["error"] == "VALIDATION_ERROR" and name in body["details"]["fields"], body


@pytest.fixture
def raw(world: dict[str, Any]) -> str:
    return make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*"])[1]


@pytest.mark.parametrize("scope", ["scans:read ", " scans:read", "*\t", "scans:read\n"])
def test_a_scope_is_spelt_as_listed(api, world, raw, scope):
    _refused(api.post(KEYS, {"name": "n", "scopes": [scope]}, format="json", HTTP_X_API_KEY=raw), "scopes")
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*"])
    r = api.patch(f"{KEYS}{key.public_id}/", {"scopes": [scope]}, format="json", HTTP_X_API_KEY=raw)
    _refused(r, "scopes")
    assert not ApiKey.objects.filter(name="n").exists()


@pytest.mark.parametrize("rate", ["٥/min", "５/min", " 5/min", "5/min "])
def test_a_rate_limit_is_ascii_as_written(api, world, raw, rate):
    _refused(api.post(KEYS, {"name": "n", "rate_limit": rate}, format="json", HTTP_X_API_KEY=raw), "rate_limit")
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*"])
    r = api.patch(f"{KEYS}{key.public_id}/", {"rate_limit": rate}, format="json", HTTP_X_API_KEY=raw)
    _refused(r, "rate_limit")


@pytest.mark.parametrize("flag", ["true", "false", "yes", "no", 1, 0, "0", "on", "off", "True"])
def test_unbound_is_a_json_boolean(api, world, raw, flag):
    _refused(api.post(KEYS, {"name": "n", "unbound": flag}, format="json", HTTP_X_API_KEY=raw), "unbound")
    assert not ApiKey.objects.filter(name="n").exists()


def test_the_plain_spellings_still_work(api, world, raw):
    r = api.post(
        KEYS,
        {"name": "n", "scopes": ["scans:read", "*:read"], "rate_limit": "5/min", "unbound": False},
        format="json",
        HTTP_X_API_KEY=raw,
    )
    assert r.status_code == 201, r.json()
    assert r.json()["rate_limit"] == "5/min"
