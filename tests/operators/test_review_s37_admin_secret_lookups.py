"""The admin hides secrets (SPEC §2: "a key never appears in ... admin"; §10: "keys (no
secrets)"): a session key, a TOTP seed, a key's digest, a password hash are neither shown
nor editable. Yet Django's changelist accepts a filter on any field of the model in the URL
(``?session_key__startswith=a``): a staff operator who may merely *view* sessions learns a
superuser's live session key one character at a time (the row shows up or not), then signs
in as them, already past the second factor. The same reads a TOTP seed, a key digest and a
password hash. A filter on a secret field is refused (400), as any other suspicious lookup.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import UserSession
from tests.factories import PASSWORD, UserFactory, make_key, make_tenant

pytestmark = pytest.mark.django_db


def _viewer_operator(settings, *perms: str) -> Client:
    """A staff operator allowed only to view some admin pages (2FA has its own tests)."""
    settings.TATER_ADMIN_REQUIRES_OTP = False
    helpdesk = UserFactory(is_staff=True)
    helpdesk.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(helpdesk)
    return client


def _signed_in_superuser() -> str:
    boss = UserFactory(is_staff=True, is_superuser=True)
    browser = Client()
    assert browser.post("/accounts/login/", {"login": boss.email, "password": PASSWORD}).status_code == 302
    return UserSession.objects.get(user=boss).session_key


def _rows(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.context["cl"].result_count


def test_a_filter_on_the_session_key_is_refused(settings) -> None:
    helpdesk = _viewer_operator(settings, "view_usersession")
    session_key = _signed_in_superuser()
    assert _rows(helpdesk, "/admin/accounts/usersession/") >= 1  # the page itself is theirs to read

    for lookup in (f"session_key__startswith={session_key[0]}", f"session_key={session_key}"):
        response = helpdesk.get(f"/admin/accounts/usersession/?{lookup}")
        assert response.status_code == 400, lookup


def test_a_filter_on_a_totp_seed_is_refused(settings) -> None:
    helpdesk = _viewer_operator(settings, "view_totpdevice")
    device = TOTPDevice.objects.create(user=UserFactory(is_superuser=True, is_staff=True), name="phone")
    assert helpdesk.get(f"/admin/otp_totp/totpdevice/?key__startswith={device.key[:2]}").status_code == 400


def test_a_filter_on_a_key_digest_is_refused(settings) -> None:
    helpdesk = _viewer_operator(settings, "view_apikey")
    tenant, owner, (org,) = make_tenant()
    api_key, _ = make_key(user=owner, tenant=tenant, org=org)
    assert _rows(helpdesk, "/admin/apikeys/apikey/") == 1
    for field in ("digest", "previous_digest"):
        response = helpdesk.get(f"/admin/apikeys/apikey/?{field}__startswith={api_key.digest[:1]}")
        assert response.status_code == 400, field


def test_a_filter_on_a_password_hash_is_refused(settings) -> None:
    helpdesk = _viewer_operator(settings, "view_user")
    boss = UserFactory(is_staff=True, is_superuser=True)
    response = helpdesk.get(f"/admin/accounts/user/?password__startswith={boss.password[:4]}")
    assert response.status_code == 400


def test_ordinary_filters_and_search_still_work(settings) -> None:
    helpdesk = _viewer_operator(settings, "view_apikey", "view_usersession")
    tenant, owner, (org,) = make_tenant()
    make_key(user=owner, tenant=tenant, org=org, name="nightly sync")
    assert _rows(helpdesk, f"/admin/apikeys/apikey/?tenant__id__exact={tenant.pk}&status=active&q=nightly") == 1
    assert _rows(helpdesk, "/admin/apikeys/apikey/?type__exact=standard") == 1
    assert _rows(helpdesk, "/admin/accounts/usersession/?q=nobody@x.test") == 0
