"""The session that removes the passkey it passed the second factor with stays verified
(README "Re-securing the second factor signs out the other sessions": "the session making the
change stays signed in and verified"; SPEC §8 tenant policy "require 2FA", §13 passkeys beside
TOTP and recovery codes, the admin accepts either factor).

Someone who signed in with an old passkey, added a new one and removed the old one used to
find their session no longer verified: a member of a tenant requiring 2FA was sent to the
step-up check on the next page, and an operator was shut out of the admin, right after a
change made with a verified session while another factor was still enrolled."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from tests.accounts.conftest import enrol
from tests.accounts.test_passkeys import SoftAuthenticator, enrol_passkey, post_json, sign_in
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def _signed_in_with_passkey(user: Any) -> tuple[Client, Any, Any]:
    """``user`` has TOTP and two passkeys; a fresh browser signs in with the first passkey."""
    _, codes = enrol(user)
    setup = Client()
    sign_in(setup, user)
    assert setup.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    first, old = enrol_passkey(setup)
    enrol_passkey(setup, SoftAuthenticator())
    browser = Client()
    sign_in(browser, user)
    options = post_json(browser, "/accounts/2fa/challenge/passkey/begin/").json()
    assert post_json(browser, "/accounts/2fa/challenge/passkey/complete/", first.get(options)).status_code == 200
    assert browser.get("/api/v1/me").json()["two_factor"]["verified"] is True
    return browser, old, codes


def test_removing_the_passkey_signed_in_with_keeps_the_session_verified() -> None:
    tenant, user, _ = make_tenant()
    tenant.require_2fa = True
    tenant.save(update_fields=["require_2fa"])
    browser, old, _ = _signed_in_with_passkey(user)

    removed = browser.post(f"/accounts/passkeys/{old.pk}/remove/")
    assert removed.status_code == 302 and removed["Location"] == "/accounts/security/"
    assert not WebAuthnCredential.objects.filter(pk=old.pk).exists()

    assert browser.get("/api/v1/me").json()["two_factor"] == {"enabled": True, "verified": True}
    home = browser.get("/")
    assert not (home.status_code == 302 and home["Location"].startswith("/accounts/2fa/verify/"))
    assert browser.get("/api/v1/organizations/").status_code == 200  # no 403 MFA_REQUIRED


def test_an_operator_removing_the_passkey_signed_in_with_keeps_the_admin() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser, old, _ = _signed_in_with_passkey(staff)
    assert browser.get("/admin/").status_code == 200

    url = f"/admin/django_otp_webauthn/webauthncredential/{old.pk}/delete/"
    assert browser.post(url, {"post": "yes"}).status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=old.pk).exists()

    assert browser.get("/admin/").status_code == 200
    assert browser.get("/api/v1/me").json()["two_factor"]["verified"] is True


def test_the_removed_passkey_no_longer_verifies_anything() -> None:
    """What stays verified is the session, never the removed passkey: signing in with it fails."""
    tenant, user, _ = make_tenant()
    _, codes = enrol(user)
    setup = Client()
    sign_in(setup, user)
    setup.post("/accounts/2fa/challenge/", {"code": codes[0]})
    gone, old = enrol_passkey(setup)
    enrol_passkey(setup, SoftAuthenticator())
    assert setup.post(f"/accounts/passkeys/{old.pk}/remove/").status_code == 302
    again = Client()
    sign_in(again, user)
    options = post_json(again, "/accounts/2fa/challenge/passkey/begin/").json()
    assert post_json(again, "/accounts/2fa/challenge/passkey/complete/", gone.get(options)).status_code == 401
    assert again.get("/api/v1/me").status_code == 401
