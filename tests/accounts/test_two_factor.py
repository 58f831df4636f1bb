"""TOTP enrolment (QR code), the sign-in challenge, replay refusal, recovery codes,
disabling, the tenant "require 2FA" policy and the admin behind a second factor."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import recovery, services
from accounts.models import RecoveryCode
from audit.models import AuditEvent
from orgs import services as org_services
from tests.accounts.conftest import enrol, setup_form, totp_code
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def sign_in(client: Client, user: Any) -> Any:
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})


def test_enrolment_with_qr_code_then_recovery_codes_shown_once(client: Client, clock: Any) -> None:
    tenant, user, _ = make_tenant()
    sign_in(client, user)
    page = client.get("/accounts/2fa/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<path" in html  # the QR code is inline SVG
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org/2000/svg", "")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post("/accounts/2fa/", {**setup_form(page), "code": "000000"})
    assert 'role="alert"' in wrong.content.decode()
    clock.advance(5)
    done = client.post("/accounts/2fa/", {**setup_form(wrong), "code": totp_code(device, clock.now)})
    codes = re.findall(r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){5})</code>", done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    # 24 base32 characters = 120 bits each; only digests are stored.
    assert all(len(recovery.normalize(c)) == 24 for c in codes)
    stored = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert stored == {recovery.digest(c) for c in codes}
    assert not any(c.replace("-", "") in d for c in codes for d in stored)
    assert AuditEvent.objects.filter(action="mfa.enabled", tenant=tenant).exists()
    # The page now shows the status, never the codes or the secret again.
    status = client.get("/accounts/2fa/").content.decode()
    assert "10 unused recovery codes" in status and codes[0] not in status and "<svg" not in status


def test_sign_in_asks_for_the_code_and_refuses_a_replayed_one(clock: Any) -> None:
    user = UserFactory()
    device, codes = enrol(user, clock.now)
    clock.advance(30)
    code = totp_code(device, clock.now)

    first = Client()
    response = sign_in(first, user)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/challenge/"
    assert first.get("/api/v1/me").status_code == 401  # not signed in yet
    done = first.post("/accounts/2fa/challenge/", {"code": code})
    assert done.status_code == 302
    me = first.get("/api/v1/me").json()
    assert me["two_factor"]["verified"] is True

    second = Client()
    sign_in(second, user)
    clock.advance(2)
    replay = second.post("/accounts/2fa/challenge/", {"code": code})
    assert replay.status_code == 200 and "not valid or was already used" in replay.content.decode()
    assert second.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="user.login_failed", changes__method="otp").exists()


def test_recovery_code_is_single_use_and_regenerate_invalidates(clock: Any) -> None:
    user = UserFactory()
    enrol(user, clock.now)
    codes = services.recovery_codes_regenerate(user=user)
    client = Client()
    sign_in(client, user)
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    other = Client()
    sign_in(other, user)
    assert other.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 200
    # Regenerate from the UI: old codes stop working, new ones work.
    page = client.post("/accounts/2fa/recovery-codes/")
    new_codes = re.findall(r"<code>([A-Z2-7-]{29})</code>", page.content.decode())
    assert len(new_codes) == 10
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_regenerated").count() == 2
    clock.advance(10)
    assert services.verify_second_factor(user=user, code=codes[1]) is None
    clock.advance(10)
    assert services.verify_second_factor(user=user, code=new_codes[1]) is not None


def test_disable_requires_the_password(clock: Any) -> None:
    user = UserFactory()
    device, codes = enrol(user, clock.now)
    client = Client()
    sign_in(client, user)
    client.post("/accounts/2fa/challenge/", {"code": codes[0]})
    wrong = client.post("/accounts/2fa/disable/", {"password": "not-my-password"})
    assert wrong.status_code == 200 and services.has_2fa(user)
    ok = client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert ok.status_code == 302 and not services.has_2fa(user)
    assert AuditEvent.objects.filter(action="mfa.disabled").exists()


def test_enrolment_page_requires_recent_authentication(clock: Any) -> None:
    user = UserFactory()
    client = Client()
    sign_in(client, user)
    assert client.get("/accounts/2fa/").status_code == 200  # just signed in
    clock.advance(3600)
    response = client.get("/accounts/2fa/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
    reauth = client.post(response["Location"], {"password": PASSWORD})
    assert reauth.status_code == 302
    assert client.get("/accounts/2fa/").status_code == 200


def test_tenant_requiring_2fa_forces_enrolment(clock: Any) -> None:
    tenant, owner, (org,) = make_tenant()
    org_services.tenant_update(tenant=tenant, actor=owner, require_2fa=True)
    client = Client()
    sign_in(client, owner)
    ui = client.get("/")
    assert ui.status_code == 302 and ui["Location"] == "/accounts/2fa/"
    api = client.get("/api/v1/keys/")
    assert api.status_code == 403 and api.json()["error"] == "MFA_REQUIRED"
    assert client.get("/api/v1/me").json()["mfa_required"] is True
    # After enrolling, the same session goes through.
    form = setup_form(client.get("/accounts/2fa/"))
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    client.post("/accounts/2fa/", {**form, "code": totp_code(device, clock.now)})
    assert client.get("/api/v1/keys/").status_code == 200


def test_tenant_requiring_2fa_wants_the_session_to_have_passed_it(clock: Any) -> None:
    """SPEC §8: the policy is enforced on every session request. An enrolled member's session
    that never passed the second factor (made outside the sign-in flow, here by a test
    login) sees no tenant data until it steps up."""
    tenant, owner, (org,) = make_tenant()
    org_services.tenant_update(tenant=tenant, actor=owner, require_2fa=True)
    device, _ = enrol(owner, clock.now)
    client = Client()
    client.force_login(owner)
    ui = client.get("/keys/")
    assert ui.status_code == 302 and ui["Location"].startswith("/accounts/2fa/verify/")
    api = client.get("/api/v1/keys/")
    assert (api.status_code, api.json()["error"]) == (403, "MFA_REQUIRED")
    assert "/accounts/2fa/verify/" in api.json()["message"]
    clock.advance(30)
    client.post("/accounts/2fa/verify/", {"code": totp_code(device, clock.now)})
    assert client.get("/api/v1/keys/").status_code == 200
    assert client.get("/keys/").status_code == 200


def test_api_keys_are_not_subject_to_the_session_2fa_gate(world: dict[str, Any]) -> None:
    org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], require_2fa=True)
    assert Client().get("/api/v1/keys/", HTTP_X_API_KEY=world["owner_raw"]).status_code == 200


def test_admin_requires_a_verified_second_factor(clock: Any) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    anonymous = client.get("/admin/")
    assert anonymous.status_code == 302
    assert client.get(anonymous["Location"])["Location"].startswith("/accounts/login/")
    sign_in(client, staff)
    unverified = client.get("/admin/", follow=True)
    assert unverified.redirect_chain[-1][0].startswith("/accounts/2fa")
    device, codes = enrol(staff, clock.now)
    clock.advance(30)
    step_up = client.post("/accounts/2fa/verify/?next=/admin/", {"code": totp_code(device, clock.now)})
    assert step_up.status_code == 302 and step_up["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_session_from_before_enrolment_cannot_remove_or_replace_the_second_factor(clock: Any) -> None:
    """A session signed in before the account enrolled 2FA (elsewhere: a stolen laptop's,
    a leaked cookie's) never passed the second factor. With the password alone it must not
    turn 2FA off, replace the authenticator or mint new recovery codes: it steps up first."""
    user = UserFactory()
    old = Client()
    sign_in(old, user)
    enrol(user, clock.now)  # in another session

    off = old.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert off.status_code == 302 and "/accounts/2fa/verify/" in off["Location"]
    assert services.has_2fa(user)
    replaced = old.get("/accounts/2fa/?replace=1")
    assert replaced.status_code == 302 and "/accounts/2fa/verify/" in replaced["Location"]
    assert b"otpauth" not in replaced.content
    codes_before = AuditEvent.objects.filter(action="mfa.recovery_codes_regenerated").count()
    regenerated = old.post("/accounts/2fa/recovery-codes/")
    assert regenerated.status_code == 302 and "/accounts/2fa/verify/" in regenerated["Location"]
    assert AuditEvent.objects.filter(action="mfa.recovery_codes_regenerated").count() == codes_before

    # Once it passes the second factor, it may.
    device = services.totp_device(user)
    clock.advance(30)
    old.post("/accounts/2fa/verify/", {"code": totp_code(device, clock.now)})
    assert old.post("/accounts/2fa/disable/", {"password": PASSWORD}).status_code == 302
    assert not services.has_2fa(user)


def test_enrolling_a_first_second_factor_signs_out_the_other_sessions(clock: Any) -> None:
    """Sessions signed in on the password alone never passed the new factor: enrolling it
    ends them (a stolen cookie must not outlive the fix); the enrolling session stays."""
    user = UserFactory()
    elsewhere, here = Client(), Client()
    sign_in(elsewhere, user)
    sign_in(here, user)
    assert elsewhere.get("/accounts/security/").status_code == 200

    form = setup_form(here.get("/accounts/2fa/"))
    device = services.pending_totp_device(user)
    page = here.post("/accounts/2fa/", {**form, "code": totp_code(device, clock.now)})
    assert page.status_code == 200 and services.has_2fa(user)

    assert here.get("/accounts/security/").status_code == 200
    gone = elsewhere.get("/accounts/security/")
    assert gone.status_code == 302 and "/accounts/login/" in gone["Location"]
