"""SPEC §5 (`POST auth/token`: email + password (+ OTP code when the user has 2FA) → a new API
key) and §3 (an error names what failed): a script that sends no code to an account with 2FA
got 401 INVALID_OTP, the same answer as a wrong or spent code, so it could not tell "ask the
person for a code" from "the code was wrong" but by remembering what it sent. The answer now
says so in ``details.code_required`` (true: none was sent; false: the one sent was refused).
Taffy's path answers plain English messages only, as its document says, and they already differ
("send the code" / "Invalid or already used verification code")."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_with_2fa(clock: Any) -> Any:
    _, owner, _ = make_tenant(name="Two factors", orgs=1)
    enrol(owner, clock.now)
    return owner


def test_no_code_says_a_code_is_required(api: APIClient, owner_with_2fa: Any) -> None:
    r = api.post("/api/v1/auth/token", {"email": owner_with_2fa.email, "password": PASSWORD}, format="json")
    assert r.status_code == 401, r.content
    assert r.json()["error"] == "INVALID_OTP"
    assert r.json()["details"] == {"code_required": True}


def test_a_wrong_code_says_the_code_was_refused(api: APIClient, owner_with_2fa: Any) -> None:
    body = {"email": owner_with_2fa.email, "password": PASSWORD, "code": "000000"}
    r = api.post("/api/v1/auth/token", body, format="json")
    assert r.status_code == 401, r.content
    assert r.json()["error"] == "INVALID_OTP"
    assert r.json()["details"] == {"code_required": False}


def test_a_passkey_only_account_is_told_what_code_it_can_send(api: APIClient) -> None:
    """A passkey cannot be presented by a script: the answer says to use a recovery code, not
    to "send the code" an account with no authenticator app has nowhere to read."""
    from tests.factories import make_passkey

    _, owner, _ = make_tenant(name="Passkeys only", orgs=1)
    make_passkey(owner, 1)
    r = api.post("/api/v1/auth/token", {"email": owner.email, "password": PASSWORD}, format="json")
    assert r.status_code == 401 and r.json()["error"] == "INVALID_OTP", r.content
    assert r.json()["details"] == {"code_required": True}
    assert "recovery code" in r.json()["message"], r.json()["message"]
