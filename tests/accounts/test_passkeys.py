"""Passkeys (WebAuthn) as a second factor (SPEC §13): enrolment, the sign-in's second step in
the UI and in the JSON flow, step-up before the admin, renaming, removal, the tenant policy
and the audit trail.

The browser side is played by ``SoftAuthenticator``, a software authenticator written from
the WebAuthn spec (an ES256 key, CBOR attestation objects with the "none" format, signed
assertions): what it sends is verified by django-otp-webauthn / py_webauthn exactly as a
browser's answer would be. The real-browser flow is in test_passkeys_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from typing import Any
from unittest import mock

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client, RequestFactory, override_settings
from django_otp_webauthn.models import WebAuthnCredential
from rest_framework.test import APIClient

from accounts import mfa, passkeys, services
from accounts.models import LoginChallenge, RecoveryCodeDevice
from audit.models import AuditEvent
from orgs import services as org_services
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"  # Django's test client


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SoftAuthenticator:
    """One passkey on a software authenticator: ``create`` answers creation options
    (navigator.credentials.create), ``get`` answers request options (credentials.get)."""

    def __init__(self, origin: str = ORIGIN) -> None:
        self.origin = origin
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.rp_id = ""
        self.user_handle = b""

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def create(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None) -> dict[str, Any]:
        self.rp_id = options["rp"]["id"]
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key()
        flags = 0x01 | 0x04 | 0x40  # user present, user verified, attested credential data
        auth_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([flags])
            + self.sign_count.to_bytes(4, "big")
            + attested
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {"credProps": {"rk": True}},
            "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any], *, origin: str | None = None, tamper: bool = False) -> dict[str, Any]:
        self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([0x01 | 0x04])
            + self.sign_count.to_bytes(4, "big")
        )
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        if tamper:
            client_data = self._client_data("webauthn.get", options["challenge"], origin).replace(b"}", b', "x": 1}')
        return {
            "id": b64url(self.credential_id),
            "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(self.user_handle),
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }


def sign_in(client: Client, user: Any) -> Any:
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})


def post_json(client: Client, url: str, body: Any = None) -> Any:
    return client.post(url, json.dumps(body) if body is not None else "", content_type="application/json")


def enrol_passkey(client: Client, authenticator: SoftAuthenticator | None = None) -> tuple[SoftAuthenticator, Any]:
    """Through the security page's ceremony (the client is signed in)."""
    authenticator = authenticator or SoftAuthenticator()
    options = post_json(client, "/accounts/passkeys/register/begin/").json()
    done = post_json(client, "/accounts/passkeys/register/complete/", authenticator.create(options))
    assert done.status_code == 200, done.content
    return authenticator, WebAuthnCredential.objects.get(pk=done.json()["id"])


def user_with_passkey() -> tuple[Any, Any, SoftAuthenticator]:
    tenant, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    authenticator, _ = enrol_passkey(client)
    return tenant, user, authenticator


def user_with_passkey_of(email: str) -> tuple[Any, Any, SoftAuthenticator]:
    """A user without a tenant, with a passkey."""
    user = UserFactory(email=email)
    client = Client()
    sign_in(client, user)
    authenticator, _ = enrol_passkey(client)
    return None, user, authenticator


def me(client: Client) -> Any:
    return client.get("/api/v1/me")


# --- Relying party --------------------------------------------------------------------


def test_relying_party_id_is_the_setting_else_the_request_host() -> None:
    request = RequestFactory().get("/", HTTP_HOST="localhost:8123")
    assert passkeys.relying_party_id(request) == "localhost"
    with override_settings(OTP_WEBAUTHN_RP_ID="tater.example.com"):
        assert passkeys.relying_party_id(request) == "tater.example.com"


def test_expected_origins_are_the_setting_else_the_request_origin() -> None:
    request = RequestFactory().get("/", HTTP_HOST="localhost:8123")
    assert passkeys.helper_for(request).get_allowed_origins() == ["http://localhost:8123"]
    with override_settings(OTP_WEBAUTHN_ALLOWED_ORIGINS=["https://tater.example.com"]):
        assert passkeys.helper_for(request).get_allowed_origins() == ["https://tater.example.com"]


def test_passwordless_sign_in_is_off_and_the_library_urls_are_not_routed(client: Client) -> None:
    from django.conf import settings
    from django.urls import NoReverseMatch, reverse

    assert settings.OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN is False
    with pytest.raises(NoReverseMatch):
        reverse("otp_webauthn:credential-authentication-complete")


# --- Enrolment ----------------------------------------------------------------------


def test_enrolment_on_the_security_page_stores_a_named_audited_passkey() -> None:
    tenant, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    page = client.get("/accounts/security/").content.decode()
    assert 'id="passkey-register-button"' in page and 'id="otp_webauthn_config"' in page
    assert "/static/django_otp_webauthn/otp_webauthn_register.js" in page and "/static/accounts/passkeys.js" in page
    config = json.loads(page.split('id="otp_webauthn_config" type="application/json">', 1)[1].split("</script>", 1)[0])
    assert config["beginRegistrationUrl"] == "/accounts/passkeys/register/begin/"
    assert config["autocompleteLoginFieldSelector"] is None

    options = post_json(client, config["beginRegistrationUrl"]).json()
    assert options["rp"] == {"name": "Tater", "id": "testserver"}
    assert options["user"]["name"] == user.email and options["excludeCredentials"] == []
    authenticator = SoftAuthenticator()
    done = post_json(client, config["completeRegistrationUrl"], authenticator.create(options))
    assert done.status_code == 200
    passkey = WebAuthnCredential.objects.get(user=user)
    assert done.json() == {"id": passkey.pk} and passkey.name == "Passkey" and passkey.confirmed
    assert services.has_2fa(user) and services.second_factor_methods(user) == ["passkey"]
    assert me(client).json()["two_factor"] == {"enabled": True, "verified": True}  # as after confirming TOTP
    event = AuditEvent.objects.get(action="mfa.enabled", tenant=tenant)
    assert event.changes == {"method": "passkey", "name": "Passkey"}

    # A second passkey gets the next default name; the first is excluded from its options.
    second_options = post_json(client, "/accounts/passkeys/register/begin/").json()
    assert [c["id"] for c in second_options["excludeCredentials"]] == [b64url(authenticator.credential_id)]
    _, second = enrol_passkey(client)
    assert second.name == "Passkey 2"
    page = client.get("/accounts/security/").content.decode()
    assert "Passkey 2" in page and "Generate recovery codes" in page  # none yet: offered


def test_registration_answer_is_verified_and_single_use() -> None:
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    options = post_json(client, "/accounts/passkeys/register/begin/").json()
    wrong_origin = post_json(
        client, "/accounts/passkeys/register/complete/", SoftAuthenticator(origin="https://evil.test").create(options)
    )
    assert wrong_origin.status_code == 422 and wrong_origin.json()["code"] == "invalid_registration"
    # The challenge was used up by the failed answer.
    replay = post_json(client, "/accounts/passkeys/register/complete/", SoftAuthenticator().create(options))
    assert replay.status_code == 422
    options = post_json(client, "/accounts/passkeys/register/begin/").json()
    wrong_rp = post_json(
        client, "/accounts/passkeys/register/complete/", SoftAuthenticator().create(options, rp_id="evil.test")
    )
    assert wrong_rp.status_code == 422
    options = post_json(client, "/accounts/passkeys/register/begin/").json()
    garbage = post_json(client, "/accounts/passkeys/register/complete/", {"id": "x", "response": "nope"})
    assert garbage.status_code == 422
    assert not WebAuthnCredential.objects.exists() and not AuditEvent.objects.filter(action="mfa.enabled").exists()


def test_a_credential_id_is_registered_once() -> None:
    _, owner, authenticator = user_with_passkey()
    client = Client()
    sign_in(client, UserFactory(email="mallory@example.com"))
    options = post_json(client, "/accounts/passkeys/register/begin/").json()
    copied = post_json(client, "/accounts/passkeys/register/complete/", authenticator.create(options))
    assert copied.status_code == 422 and copied.json()["detail"] == "This passkey is already registered"
    assert list(WebAuthnCredential.objects.values_list("user__email", flat=True)) == [owner.email]


def test_registration_needs_a_recent_verified_sign_in() -> None:
    _, user, _ = make_tenant()
    assert post_json(Client(), "/accounts/passkeys/register/begin/").status_code == 403  # anonymous
    client = Client()
    sign_in(client, user)
    later = time.time() + 3600
    with mock.patch("accounts.views.time.time", return_value=later):
        stale = post_json(client, "/accounts/passkeys/register/begin/")
        assert stale.status_code == 403 and stale.json()["code"] == "reauthentication_required"
        page = client.get("/accounts/security/").content.decode()
        assert "Confirm your password to add a passkey" in page and 'id="passkey-register-button"' not in page
    # A session signed in with the password alone (before the user enrolled elsewhere) may
    # not add a factor: it must pass the second factor first.
    enrol(user)
    refused = post_json(client, "/accounts/passkeys/register/begin/")
    assert refused.status_code == 403 and refused.json()["code"] == "user_not_verified"
    assert post_json(client, "/accounts/passkeys/register/complete/", {}).status_code == 403
    assert client.get("/accounts/passkeys/register/begin/").status_code == 405


# --- The sign-in's second step (UI) --------------------------------------------------------


def test_sign_in_completes_with_the_passkey() -> None:
    tenant, user, authenticator = user_with_passkey()
    client = Client()
    response = sign_in(client, user)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/challenge/"
    page = client.get("/accounts/2fa/challenge/").content.decode()
    assert 'id="passkey-verification-button"' in page and "otp_webauthn_auth.js" in page
    assert "/accounts/2fa/challenge/passkey/begin/" in page
    options = post_json(client, "/accounts/2fa/challenge/passkey/begin/").json()
    assert options["rpId"] == "testserver" and options["userVerification"] == "discouraged"
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(authenticator.credential_id)]
    assert me(client).status_code == 401
    done = post_json(client, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options))
    assert done.status_code == 200, done.content
    assert done.json()["redirect_url"] == "/"
    assert me(client).json()["two_factor"] == {"enabled": True, "verified": True}
    login = AuditEvent.objects.filter(action="user.login", tenant=tenant).latest("pk")
    assert login.changes == {"second_factor": True, "method": "passkey"}
    passkey = WebAuthnCredential.objects.get(user=user)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_wrong_or_replayed_passkey_answer_is_refused_and_counted() -> None:
    _, user, authenticator = user_with_passkey()
    client = Client()
    sign_in(client, user)
    options = post_json(client, "/accounts/2fa/challenge/passkey/begin/").json()
    forged = post_json(client, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options, tamper=True))
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_passkey"
    # The challenge is gone: even a right answer to it is refused now.
    replay = post_json(client, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options))
    assert replay.status_code == 401
    assert me(client).status_code == 401
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="passkey").count() == 2
    # Someone else's passkey does not answer for this user.
    _, _, stranger = user_with_passkey_of("eve@example.com")
    options = post_json(client, "/accounts/2fa/challenge/passkey/begin/").json()
    assert post_json(client, "/accounts/2fa/challenge/passkey/complete/", stranger.get(options)).status_code == 401
    # Another origin's assertion (a phishing relay) is refused.
    options = post_json(client, "/accounts/2fa/challenge/passkey/begin/").json()
    relayed = post_json(
        client, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options, origin="https://evil.test")
    )
    assert relayed.status_code == 401
    # Still a working code path afterwards.
    options = post_json(client, "/accounts/2fa/challenge/passkey/begin/").json()
    assert post_json(client, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options)).status_code == 200


def test_passkey_challenge_needs_a_pending_sign_in() -> None:
    assert post_json(Client(), "/accounts/2fa/challenge/passkey/begin/").json()["code"] == "invalid_state"
    assert post_json(Client(), "/accounts/2fa/challenge/passkey/complete/", {}).status_code == 400
    # An account without passkeys: the page offers no button, the ceremony refuses.
    user = UserFactory()
    enrol(user)
    client = Client()
    sign_in(client, user)
    assert "passkey-verification-button" not in client.get("/accounts/2fa/challenge/").content.decode()
    assert post_json(client, "/accounts/2fa/challenge/passkey/begin/").json()["code"] == "no_passkey"


def test_locked_out_account_gets_json_429() -> None:
    _, user, authenticator = user_with_passkey()
    client = Client()
    sign_in(client, user)
    with override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=2):
        answers = []
        for _ in range(3):
            options = post_json(client, "/accounts/2fa/challenge/passkey/begin/")
            if options.status_code != 200:
                answers.append(options.status_code)
                break
            answers.append(
                post_json(
                    client, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options.json(), tamper=True)
                ).status_code
            )
    assert answers[-1] == 429


# --- Step-up (the admin) ---------------------------------------------------------


def test_admin_accepts_a_passkey_verified_session() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    sign_in(client, staff)  # no second factor yet: signed in, not verified
    authenticator, _ = enrol_passkey(client)  # marks this session verified, like TOTP enrolment
    assert client.get("/admin/").status_code == 200

    fresh = Client()
    sign_in(fresh, staff)
    options = post_json(fresh, "/accounts/2fa/challenge/passkey/begin/").json()
    post_json(fresh, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options))
    assert fresh.get("/admin/").status_code == 200
    devices = fresh.get("/admin/django_otp_webauthn/webauthncredential/").content.decode()
    assert staff.email in devices and "Passkey" in devices


def test_step_up_with_a_passkey_before_the_admin() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    other = Client()
    sign_in(other, staff)
    authenticator, _ = enrol_passkey(other)
    # A session that never passed the second factor (sign-in asks for it, and enrolling
    # signs the password-only sessions out: only a login outside the sign-in flow makes one).
    stale = Client()
    stale.force_login(staff)
    refused = stale.get("/admin/", follow=True)
    assert refused.redirect_chain[-1][0].startswith("/accounts/2fa/verify/")
    page = stale.get("/accounts/2fa/verify/?next=/admin/").content.decode()
    assert "/accounts/2fa/verify/passkey/begin/" in page and 'name="next" value="/admin/"' in page
    options = post_json(stale, "/accounts/2fa/verify/passkey/begin/").json()
    done = post_json(stale, "/accounts/2fa/verify/passkey/complete/?next=/admin/", authenticator.get(options))
    assert done.status_code == 200 and done.json()["redirect_url"] == "/admin/"
    assert stale.get("/admin/").status_code == 200
    assert post_json(Client(), "/accounts/2fa/verify/passkey/begin/").status_code == 403


# --- Renaming and removal ------------------------------------------------------------


def test_rename_a_passkey() -> None:
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    _, passkey = enrol_passkey(client)
    response = client.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": "  Work   laptop "})
    assert response.status_code == 302
    passkey.refresh_from_db()
    assert passkey.name == "Work laptop"
    client.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": "   "})
    client.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": "x" * 65})
    passkey.refresh_from_db()
    assert passkey.name == "Work laptop"
    assert "Work laptop" in client.get("/accounts/security/").content.decode()
    # Someone else's passkey: 404, untouched.
    stranger = Client()
    sign_in(stranger, UserFactory())
    assert stranger.post(f"/accounts/passkeys/{passkey.pk}/rename/", {"name": "mine"}).status_code == 404
    assert stranger.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 404
    assert WebAuthnCredential.objects.filter(pk=passkey.pk, name="Work laptop").exists()


def test_remove_the_last_passkey_turns_2fa_off() -> None:
    tenant, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    _, passkey = enrol_passkey(client)
    client.post("/accounts/2fa/recovery-codes/")
    assert RecoveryCodeDevice.objects.filter(user=user).exists()
    response = client.post(f"/accounts/passkeys/{passkey.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/accounts/security/"
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()  # not left on codes alone
    assert not services.has_2fa(user)
    event = AuditEvent.objects.get(action="mfa.disabled", tenant=tenant)
    assert event.changes == {"method": "passkey", "name": "Passkey", "second_factor_left": False}


def test_remove_one_passkey_keeps_the_other_factors() -> None:
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    _, passkey = enrol_passkey(client)
    enrol(user)  # TOTP + recovery codes
    client.post(f"/accounts/passkeys/{passkey.pk}/remove/")
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert services.second_factor_methods(user) == ["recovery_code", "totp"]


def test_remove_needs_a_recent_sign_in() -> None:
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    _, passkey = enrol_passkey(client)
    with mock.patch("accounts.views.time.time", return_value=time.time() + 3600):
        response = client.post(f"/accounts/passkeys/{passkey.pk}/remove/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()


def test_turning_2fa_off_removes_passkeys_too() -> None:
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    enrol_passkey(client)
    client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert not WebAuthnCredential.objects.filter(user=user).exists() and not services.has_2fa(user)


def test_operator_removes_a_lost_passkey_in_the_admin() -> None:
    _, user, _ = user_with_passkey()
    passkey = WebAuthnCredential.objects.get(user=user)
    mfa.mfa_device_remove(device=passkey)
    event = AuditEvent.objects.filter(action="mfa.disabled").latest("pk")
    assert event.changes == {"method": "passkey", "device": "Passkey", "by": "operator", "second_factor_left": False}


# --- Tenant policy ------------------------------------------------------------------


def test_a_passkey_satisfies_the_tenant_require_2fa_policy() -> None:
    tenant, user, _ = make_tenant()
    org_services.tenant_update(tenant=tenant, actor=user, require_2fa=True)
    client = Client()
    sign_in(client, user)
    assert client.get("/keys/")["Location"] == "/accounts/2fa/"
    assert client.get("/api/v1/keys/").json()["error"] == "MFA_REQUIRED"
    enrol_passkey(client)  # the security page stays reachable
    assert client.get("/keys/").status_code == 200
    assert client.get("/api/v1/keys/").status_code == 200
    assert client.get("/api/v1/me").json()["mfa_required"] is False


# --- JSON flow -----------------------------------------------------------------------


def api_login(api: APIClient, user: Any) -> dict[str, Any]:
    body = api.post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()
    assert body["requires2FA"] is True
    return body


def options_for(api: APIClient, token: str) -> Any:
    return api.post("/api/v1/auth/webauthn/options", {"token": token}, format="json")


def test_json_sign_in_with_a_passkey() -> None:
    tenant, user, authenticator = user_with_passkey()
    api = APIClient()
    body = api_login(api, user)
    assert body["methods"] == ["passkey"]
    answer = options_for(api, body["token"])
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    public_key = answer.json()["publicKey"]
    assert public_key["rpId"] == "testserver"
    assert [c["id"] for c in public_key["allowCredentials"]] == [b64url(authenticator.credential_id)]
    done = api.post(
        "/api/v1/auth/verify-2fa", {"token": body["token"], "webauthn": authenticator.get(public_key)}, format="json"
    )
    assert done.status_code == 200, done.json()
    assert done.json()["user"]["two_factor"] == {"enabled": True, "verified": True}
    assert api.get("/api/v1/me").json()["two_factor"]["verified"] is True
    login = AuditEvent.objects.filter(action="user.login", tenant=tenant).latest("pk")
    assert login.changes == {"second_factor": True, "method": "passkey"}
    # The token is used up.
    again = APIClient().post(
        "/api/v1/auth/verify-2fa", {"token": body["token"], "webauthn": authenticator.get(public_key)}, format="json"
    )
    assert again.status_code == 401 and again.json()["error"] == "UNAUTHORIZED"


def test_json_passkey_answers_are_single_use_and_bound_to_their_token() -> None:
    _, user, authenticator = user_with_passkey()
    api = APIClient()
    first = api_login(api, user)["token"]
    options = options_for(api, first).json()["publicKey"]
    forged = api.post(
        "/api/v1/auth/verify-2fa", {"token": first, "webauthn": authenticator.get(options, tamper=True)}, format="json"
    )
    assert forged.status_code == 401 and forged.json()["error"] == "INVALID_OTP"
    assert LoginChallenge.objects.get(user=user, used_at__isnull=True).failures == 1
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="passkey").exists()
    # The challenge went with the failed answer.
    replay = api.post(
        "/api/v1/auth/verify-2fa", {"token": first, "webauthn": authenticator.get(options)}, format="json"
    )
    assert replay.status_code == 401 and replay.json()["error"] == "INVALID_OTP"
    # A challenge issued for one token does not answer another.
    second = api_login(APIClient(), user)["token"]
    other_options = options_for(api, first).json()["publicKey"]
    crossed = api.post(
        "/api/v1/auth/verify-2fa", {"token": second, "webauthn": authenticator.get(other_options)}, format="json"
    )
    assert crossed.status_code == 401
    # No options asked: nothing to answer.
    third = api_login(APIClient(), user)["token"]
    assert (
        api.post(
            "/api/v1/auth/verify-2fa", {"token": third, "webauthn": authenticator.get(options)}, format="json"
        ).status_code
        == 401
    )
    # Asking again replaces the challenge; the newest one works.
    options_for(api, third)
    newest = options_for(api, third).json()["publicKey"]
    assert (
        api.post(
            "/api/v1/auth/verify-2fa", {"token": third, "webauthn": authenticator.get(newest)}, format="json"
        ).status_code
        == 200
    )


def test_json_passkey_failures_burn_the_token() -> None:
    _, user, authenticator = user_with_passkey()
    api = APIClient()
    token = api_login(api, user)["token"]
    with override_settings(TATER_LOGIN_CHALLENGE_MAX_FAILURES=2):
        for _ in range(2):
            options = options_for(api, token).json()["publicKey"]
            api.post(
                "/api/v1/auth/verify-2fa",
                {"token": token, "webauthn": authenticator.get(options, tamper=True)},
                format="json",
            )
    assert options_for(api, token).status_code == 401


def test_json_flow_refusals() -> None:
    user = UserFactory()
    device, codes = enrol(user)  # TOTP only
    api = APIClient()
    body = api_login(api, user)
    assert body["methods"] == ["recovery_code", "totp"]
    no_passkey = options_for(api, body["token"])
    assert no_passkey.status_code == 400 and no_passkey.json()["error"] == "VALIDATION_ERROR"
    bad_token = options_for(api, "2fa_nope")
    assert bad_token.status_code == 401 and bad_token.json()["error"] == "UNAUTHORIZED"
    assert options_for(api, "").status_code == 400
    assert api.get("/api/v1/auth/webauthn/options").status_code == 405
    both = api.post(
        "/api/v1/auth/verify-2fa", {"token": body["token"], "code": codes[0], "webauthn": {}}, format="json"
    )
    assert both.status_code == 400 and "webauthn" in both.json()["details"]["fields"]
    neither = api.post("/api/v1/auth/verify-2fa", {"token": body["token"]}, format="json")
    assert neither.status_code == 400 and "code" in neither.json()["details"]["fields"]
    not_an_object = api.post("/api/v1/auth/verify-2fa", {"token": body["token"], "webauthn": "x"}, format="json")
    assert not_an_object.status_code == 400
    # Codes still work as before.
    assert (
        api.post("/api/v1/auth/verify-2fa", {"token": body["token"], "code": codes[0]}, format="json").status_code
        == 200
    )


def test_a_first_passkey_signs_out_the_password_only_sessions() -> None:
    _, user, _ = make_tenant()
    elsewhere, here = Client(), Client()
    sign_in(elsewhere, user)
    sign_in(here, user)
    enrol_passkey(here)
    assert here.get("/accounts/security/").status_code == 200
    gone = elsewhere.get("/accounts/security/")
    assert gone.status_code == 302 and "/accounts/login/" in gone["Location"]
