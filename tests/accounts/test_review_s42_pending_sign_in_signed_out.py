"""Review s42 (B): "Sign out everywhere" also ends the sign-ins still waiting for their second
factor, and so does a password change for a single sign-on's waiting step.

SPEC §8 (sessions stored server-side; 2FA), §5 / §5a (``auth/login`` → ``requires2FA`` token
→ ``auth/verify-2fa`` or ``auth/webauthn/options``, and TigerTrust's ``/api/auth/`` aliases),
§13 (passkeys). Someone holding the password has begun a sign-in and waits for a code (read
over a shoulder, a recovery code found later). The owner, alarmed by a sign-in mail, presses
"Sign out everywhere" on another device: the half-done sign-in must not complete afterwards,
with any factor, on any path (GitHub's "sign out of all sessions" ends pending ones too)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from tests.accounts.conftest import enrol, totp_code, verify_domain_via_dns
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_sso_oidc import sso_sign_in
from tests.factories import PASSWORD, make_tenant, oidc_sso

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an-entirely-different-passphrase-42"


def _owner_signs_out_everywhere(user: Any, code: str) -> None:
    owner = Client()
    assert owner.post("/accounts/login/", {"login": user.email, "password": PASSWORD})["Location"] == (
        "/accounts/2fa/challenge/"
    )
    assert owner.post("/accounts/2fa/challenge/", {"code": code}).status_code == 302
    done = owner.post("/accounts/security/sign-out-everywhere/")
    assert done.status_code == 302 and done["Location"].startswith("/accounts/login/")


def _json_login(client: Client, prefix: str, user: Any) -> str:
    started = client.post(
        f"{prefix}login", {"email": user.email, "password": PASSWORD}, content_type="application/json"
    )
    assert started.status_code == 200 and started.json()["requires2FA"] is True
    return str(started.json()["token"])


@pytest.mark.parametrize("prefix", ["/api/v1/auth/", "/api/auth/"])
def test_a_login_token_no_longer_signs_in_after_sign_out_everywhere(clock: Any, prefix: str) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    attacker = Client()
    token = _json_login(attacker, prefix, victim)
    _owner_signs_out_everywhere(victim, codes[0])
    clock.advance(30)
    answer = attacker.post(
        f"{prefix}verify-2fa",
        {"token": token, "code": totp_code(device, clock.now)},
        content_type="application/json",
    )
    assert answer.status_code == 401
    assert answer.json()["error"] == "UNAUTHORIZED"
    assert attacker.get("/api/v1/me").status_code == 401


def test_a_login_token_gets_no_passkey_options_after_sign_out_everywhere(clock: Any) -> None:
    from tests.accounts.test_passkeys import enrol_passkey

    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    clock.advance(30)
    setup = Client()
    setup.post("/accounts/login/", {"login": victim.email, "password": PASSWORD})
    setup.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    enrol_passkey(setup)

    attacker = Client()
    token = _json_login(attacker, "/api/v1/auth/", victim)
    options = attacker.post("/api/v1/auth/webauthn/options", {"token": token}, content_type="application/json")
    assert options.status_code == 200
    _owner_signs_out_everywhere(victim, codes[0])
    refused = attacker.post("/api/v1/auth/webauthn/options", {"token": token}, content_type="application/json")
    assert refused.status_code == 401 and refused.json()["error"] == "UNAUTHORIZED"


def test_the_sign_in_forms_pending_step_is_dropped_by_sign_out_everywhere(clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    attacker = Client()
    step = attacker.post("/accounts/login/", {"login": victim.email, "password": PASSWORD})
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/challenge/"
    _owner_signs_out_everywhere(victim, codes[0])
    clock.advance(30)
    answer = attacker.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert attacker.get("/api/v1/me").status_code == 401
    begin = attacker.post("/accounts/2fa/challenge/passkey/begin/")
    assert begin.status_code == 400 and begin.json()["code"] == "invalid_state"


def test_sign_out_everywhere_does_not_stop_the_next_sign_in(clock: Any) -> None:
    _, victim, _ = make_tenant()
    device, codes = enrol(victim, clock.now)
    _owner_signs_out_everywhere(victim, codes[0])
    clock.advance(30)
    again = Client()
    token = _json_login(again, "/api/v1/auth/", victim)
    done = again.post(
        "/api/v1/auth/verify-2fa",
        {"token": token, "code": totp_code(device, clock.now)},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["user"]["two_factor"]["verified"] is True


# --- A single sign-on's pending second step (SPEC §8: SSO, then the account's 2FA) -------


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def sso_user(idp: OIDCProvider, dns: LoopbackDNS, clock: Any) -> tuple[Any, Any]:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    oidc_sso(tenant, owner, idp, default_organization=org, default_role="viewer")
    verify_domain_via_dns(dns, tenant, owner, "acme.test")
    first = Client()
    assert sso_sign_in(first, idp, "jane@acme.test", sub="00u-jane").status_code == 302
    user = SocialAccount.objects.get(uid="00u-jane").user
    user.set_password(PASSWORD)  # a password too, so the owner can sign in either way
    user.save()
    device, _codes = enrol(user, clock.now)
    return user, device


def _pending_sso_sign_in(idp: OIDCProvider) -> Client:
    attacker = Client()  # e.g. an IdP session left open on a shared computer
    step = sso_sign_in(attacker, idp, "jane@acme.test", sub="00u-jane")
    assert step.status_code == 302 and step["Location"] == "/accounts/2fa/challenge/"
    return attacker


def test_an_sso_sign_ins_pending_step_is_dropped_by_sign_out_everywhere(
    idp: OIDCProvider, sso_user: tuple[Any, Any], clock: Any
) -> None:
    user, device = sso_user
    attacker = _pending_sso_sign_in(idp)
    clock.advance(30)
    _owner_signs_out_everywhere(user, totp_code(device, clock.now))
    clock.advance(30)
    answer = attacker.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert attacker.get("/api/v1/me").status_code == 401


def test_an_sso_sign_ins_pending_step_is_dropped_by_a_password_change(
    idp: OIDCProvider, sso_user: tuple[Any, Any], clock: Any
) -> None:
    user, device = sso_user
    attacker = _pending_sso_sign_in(idp)
    user.set_password(NEW_PASSWORD)
    user.save()
    clock.advance(30)
    answer = attacker.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert attacker.get("/api/v1/me").status_code == 401


def test_an_sso_sign_ins_pending_step_still_completes_untouched(
    idp: OIDCProvider, sso_user: tuple[Any, Any], clock: Any
) -> None:
    user, device = sso_user
    owner = _pending_sso_sign_in(idp)
    clock.advance(30)
    done = owner.post("/accounts/2fa/challenge/", {"code": totp_code(device, clock.now)})
    assert done.status_code == 302
    assert owner.get("/api/v1/me").json()["two_factor"]["verified"] is True
