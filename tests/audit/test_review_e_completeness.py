"""Audit completeness (SPEC §7): every write is recorded in the same transaction as the
change. Here: the account pages allauth serves (password change, password reset, sign-up,
email addresses), where the entry is written by a signal receiver after allauth saved."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-new-and-long-passphrase-42"


def audit_down():
    """The audit entry cannot be written (the store refuses the insert)."""
    return mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down"))


def signed_in(user, *, reauthenticated: bool = False) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    if reauthenticated:  # the email page asks for the password again first
        assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


class TestAllauthPagesWriteInTheEntrysTransaction:
    def test_password_change_is_undone_when_its_entry_fails(self) -> None:
        user = UserFactory()
        client = signed_in(user)
        with audit_down():
            response = client.post(
                "/accounts/password/change/",
                {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            )
        assert response.status_code == 500
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert not AuditEvent.objects.filter(action="user.password_changed").exists()

    def test_password_reset_is_undone_when_its_entry_fails(self) -> None:
        user = UserFactory(email="reset-e@example.com")
        client = Client(raise_request_exception=False)
        assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
        link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
        form_page = client.get(link, follow=True)
        action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
        with audit_down():
            response = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 500
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_sign_up_is_undone_when_its_entry_fails(self) -> None:
        client = Client(raise_request_exception=False)
        with audit_down():
            response = client.post(
                "/accounts/signup/",
                {"email": "never-e@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            )
        assert response.status_code == 500
        assert not get_user_model().objects.filter(email="never-e@example.com").exists()

    def test_email_added_is_undone_when_its_entry_fails(self) -> None:
        user = UserFactory()
        client = signed_in(user, reauthenticated=True)
        with audit_down():
            response = client.post("/accounts/email/", {"action_add": "", "email": "second-e@example.com"})
        assert response.status_code == 500
        assert not EmailAddress.objects.filter(email="second-e@example.com").exists()

    def test_email_added_is_recorded(self) -> None:
        user = UserFactory()
        client = signed_in(user, reauthenticated=True)
        response = client.post("/accounts/email/", {"action_add": "", "email": "second-e@example.com"})
        assert response.status_code == 302
        entry = AuditEvent.objects.get(action="user.email_changed")
        assert (entry.channel, entry.actor_user_id) == ("ui", user.pk)
        assert entry.changes == {"added": "second-e@example.com"}
