"""README decision "a mail that cannot be sent never fails the change it follows": account mail
(a password reset, an address confirmation) is sent by allauth through Tater's adapter once the
page's transaction commits. With the mail server down, the reset page answered a 500 ("Server
error"), and a sign-up's account was created yet its person met an error page. The failure is
now logged on ``tater.mail`` (never the message, which carries the link) and the page answers as
it does when the mail leaves."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_password_reset_with_the_mail_server_down_is_no_server_error(settings, caplog) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    user = UserFactory()
    browser = Client(raise_request_exception=False)

    with caplog.at_level(logging.WARNING, logger="tater.mail"):
        answer = browser.post("/accounts/password/reset/", {"email": user.email})

    assert answer.status_code == 302, answer.status_code
    logged = [r.getMessage() for r in caplog.records if r.name == "tater.mail"]
    assert logged and "could not be sent" in logged[0]
    assert all("/accounts/password/reset/key/" not in r.getMessage() for r in caplog.records)
