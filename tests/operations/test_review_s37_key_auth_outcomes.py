"""``tater_key_auth_total`` counts API-key authentication outcomes (SPEC §12: "key-auth
outcomes by error code"), not every catalog refusal that shares a code: a password guesser
locked out of the JSON sign-in, or a forged GitHub secret-scanning alert refused for its
signature, authenticated no key and tried none. They stay counted where they belong (the
429 in ``tater_rate_limit_refusals_total``, every request in ``tater_http_requests_total``);
a key refused or locked out is still a key-auth outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from tests.operations.test_metrics import Delta

LOGIN = "/api/v1/auth/login"


@pytest.mark.django_db
@override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3, TATER_LOCKOUT_ACCOUNT_FAILURES=100)
def test_json_sign_in_lockout_is_no_key_auth_outcome() -> None:
    delta = Delta()
    api = Client(REMOTE_ADDR="198.51.100.50")
    body = {"email": "someone@example.com", "password": "wrong"}
    codes = [api.post(LOGIN, body, content_type="application/json").json()["error"] for _ in range(4)]
    assert codes == ["INVALID_CREDENTIALS", "INVALID_CREDENTIALS", "LOCKED_OUT", "LOCKED_OUT"]
    assert delta("tater_rate_limit_refusals_total", code="LOCKED_OUT", route=LOGIN) == 2
    assert delta("tater_key_auth_total", outcome="LOCKED_OUT") == 0
    # A key from the locked-out address is refused by the lockout: that one is key auth.
    refused = api.get("/api/v1/keys/", HTTP_X_API_KEY="tater_" + "1" * 32)
    assert refused.json()["error"] == "LOCKED_OUT"
    assert delta("tater_key_auth_total", outcome="LOCKED_OUT") == 1


@pytest.mark.django_db
def test_unsigned_secret_scanning_alert_is_no_key_auth_outcome(keyworld: dict[str, Any]) -> None:
    delta = Delta()
    payload = json.dumps(
        [{"token": keyworld["raw"], "type": "tater_api_key", "url": "https://x.test", "source": "content"}]
    )
    refused = Client().post("/api/v1/secret-scanning/github/", payload, content_type="application/json")
    assert refused.status_code == 401 and refused.json()["error"] == "UNAUTHORIZED"
    assert delta("tater_key_auth_total", outcome="UNAUTHORIZED") == 0
    # A request without a key on a key-authenticated endpoint still is one (Missing API key).
    assert Client().get("/api/v1/keys/").status_code == 401
    assert delta("tater_key_auth_total", outcome="UNAUTHORIZED") == 1
