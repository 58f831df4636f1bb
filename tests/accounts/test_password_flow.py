"""Email + password through allauth's pages, end to end: sign-up (with its tenant),
verification, sign-in, sign-out, password reset and change, audit and rate limits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client, override_settings

from accounts.models import UserSession
from audit.models import AuditEvent
from orgs.models import Organization, TenantMembership
from tests.factories import PASSWORD, UserFactory, mail_sent, make_tenant

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-new-and-long-passphrase-42"


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


def test_sign_in_page_has_labelled_fields(client: Client) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert '<label for="id_login">' in page
    assert '<label for="id_password">' in page
    assert "Continue with SSO" in page


def test_sign_up_creates_user_tenant_and_org_and_sends_verification(client: Client) -> None:
    with mail_sent():
        response = client.post(
            "/accounts/signup/", {"email": "new@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
    assert response.status_code == 302
    membership = TenantMembership.objects.get(user__email="new@example.com")
    assert membership.role == "owner"
    assert Organization.objects.filter(tenant=membership.tenant).count() == 1
    assert "user.signed_up" in actions()
    assert any("new@example.com" in m.to for m in mail.outbox)
    # Signed in straight away (verification is optional by default) and able to use the product.
    me = client.get("/api/v1/me").json()
    assert me["tenants"][0]["role"] == "owner"
    assert me["current_organization"] is not None


def test_sign_up_shows_inline_errors(client: Client) -> None:
    response = client.post("/accounts/signup/", {"email": "bad", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error" role="alert"' in page
    assert '<label for="id_email">' in page


def test_sign_up_refuses_an_address_with_control_characters(client: Client) -> None:
    """Django's validator admits control characters in a quoted local part; such an address
    is refused on the form (it would reach mail headers and the new tenant's name), not a 500."""
    from django.contrib.auth import get_user_model

    response = client.post(
        "/accounts/signup/", {"email": '"a\x01b"@example.com', "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert not get_user_model().objects.filter(email__endswith="@example.com").exists()


def test_email_verification_link_verifies(client: Client) -> None:
    with mail_sent():
        client.post(
            "/accounts/signup/", {"email": "v@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
    body = mail.outbox[-1].body
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/\S+)", body).group(1)
    client.post(link)
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email="v@example.com").verified


def test_sign_in_rotates_session_tracks_it_and_audits(client: Client) -> None:
    tenant, owner, _ = make_tenant()
    client.get("/accounts/login/")
    before = client.cookies.get("sessionid")
    response = client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    key = client.cookies["sessionid"].value
    assert before is None or before.value != key
    assert UserSession.objects.filter(user=owner, session_key=key).exists()
    event = AuditEvent.objects.filter(action="user.login").get()
    assert event.tenant_id == tenant.pk and event.actor_user_id == owner.pk and event.channel == "ui"


def test_failed_sign_in_shows_error_and_is_audited(client: Client) -> None:
    tenant, owner, _ = make_tenant()
    response = client.post("/accounts/login/", {"login": owner.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    event = AuditEvent.objects.get(action="user.login_failed")
    assert event.tenant_id == tenant.pk
    assert event.changes["email"] == owner.email
    assert "wrong-password" not in str(event.changes)
    client.post("/accounts/login/", {"login": "nobody@example.com", "password": "x" * 12})
    unknown = AuditEvent.objects.filter(action="user.login_failed").order_by("-pk").first()
    assert unknown.tenant_id is None and unknown.actor_email == "nobody@example.com"


def test_sign_out_deletes_the_server_side_session(client: Client) -> None:
    user = UserFactory()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    key = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()
    assert "user.logout" in actions()
    # Replaying the old cookie gets nothing.
    replay = Client()
    replay.cookies["sessionid"] = key
    assert replay.get("/api/v1/me").status_code == 401


def test_password_reset_end_to_end(client: Client) -> None:
    user = UserFactory(email="reset@example.com")
    other = Client()
    other.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    with mail_sent():
        response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    done = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    entry = AuditEvent.objects.get(action="user.password_changed")
    assert entry.changes == {"via": "reset", "sessions_ended": 1}
    # The session that existed before the reset is gone.
    assert other.get("/api/v1/me").status_code == 401


def test_password_change_needs_old_password_and_is_audited(client: Client) -> None:
    user = UserFactory()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    wrong = client.post(
        "/accounts/password/change/",
        {"oldpassword": "nope-nope-nope", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200
    response = client.post(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert actions().count("user.password_changed") == 1


@override_settings(TATER_AUTH_FORM_RATE="3/h")  # an hour: four posts never straddle a window on a slow machine
@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/login/", {"login": "x@example.com", "password": "wrong-password"}),
        ("/accounts/signup/", {"email": "bad", "password1": "a", "password2": "b"}),
        ("/accounts/password/reset/", {"email": "x@example.com"}),
    ],
)
def test_ui_forms_are_rate_limited_by_ip(client: Client, url: str, data: dict[str, Any]) -> None:
    for _ in range(3):
        assert client.post(url, data).status_code != 429
    response = client.post(url, data)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Too many attempts" in response.content.decode()
    # Another client address is not affected.
    assert client.post(url, data, REMOTE_ADDR="10.9.9.9").status_code != 429
