"""A passkey answering with a signature counter that went back (SPEC §13, §7; WebAuthn §6.1.1:
"a signal that the authenticator may be cloned").

py_webauthn refuses such an assertion, and so does Tater. But once a copy of the key has been
used, its counter is ahead: the copy keeps working and the genuine authenticator is the one
refused. The refusal must therefore say what it is, naming the passkey, so an operator (or its
owner, in the Activity Log) can remove it; a forged answer (whose signature does not verify)
is an ordinary failure and says nothing of the kind.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.accounts.test_passkeys import (
    SoftAuthenticator,
    api_login,
    b64url,
    options_for,
    post_json,
    sign_in,
    user_with_passkey,
)

pytestmark = pytest.mark.django_db

BEGIN = "/accounts/2fa/challenge/passkey/begin/"
COMPLETE = "/accounts/2fa/challenge/passkey/complete/"
CLONE = "mfa.passkey_clone_suspected"


def signed(authenticator: SoftAuthenticator, options: dict[str, Any], *, count: int, forge: bool = False) -> Any:
    """An assertion carrying signature counter ``count``; ``forge``: signed by another key."""
    client_data = authenticator._client_data("webauthn.get", options["challenge"], None)
    auth_data = hashlib.sha256(options["rpId"].encode()).digest() + bytes([0x05]) + count.to_bytes(4, "big")
    key = ec.generate_private_key(ec.SECP256R1()) if forge else authenticator.key
    signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
    return {
        "id": b64url(authenticator.credential_id),
        "rawId": b64url(authenticator.credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(authenticator.user_handle),
        },
        "clientExtensionResults": {},
    }


def ui_answer(user: Any, authenticator: SoftAuthenticator, *, count: int, forge: bool = False) -> int:
    client = Client()
    sign_in(client, user)
    options = post_json(client, BEGIN).json()
    return post_json(client, COMPLETE, signed(authenticator, options, count=count, forge=forge)).status_code


def test_a_counter_gone_back_is_refused_and_audited_as_a_possible_copy() -> None:
    tenant, user, authenticator = user_with_passkey()
    assert ui_answer(user, authenticator, count=10) == 200  # the copy, used first
    assert ui_answer(user, authenticator, count=10, forge=True) == 401  # a forgery: no signal
    assert not AuditEvent.objects.filter(action=CLONE).exists()

    assert ui_answer(user, authenticator, count=4) == 401  # the genuine key, behind
    entry = AuditEvent.objects.get(action=CLONE)
    assert entry.tenant == tenant and entry.target_id == str(user.public_id)
    assert entry.changes == {"method": "passkey", "name": "Passkey", "sign_count": {"stored": 10, "received": 4}}
    # Still a failed sign-in, counted as one.
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="passkey").count() == 2


def test_the_json_second_step_audits_it_too() -> None:
    _, user, authenticator = user_with_passkey()
    assert ui_answer(user, authenticator, count=7) == 200
    api = APIClient()
    token = api_login(api, user)["token"]
    options = options_for(api, token).json()["publicKey"]
    refused = api.post(
        "/api/v1/auth/verify-2fa", {"token": token, "webauthn": signed(authenticator, options, count=7)}, format="json"
    )
    assert refused.status_code == 401 and refused.json()["error"] == "INVALID_OTP"
    entry = AuditEvent.objects.get(action=CLONE)
    assert entry.changes["sign_count"] == {"stored": 7, "received": 7}
