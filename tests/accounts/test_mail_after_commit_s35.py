"""Mail from allauth's pages leaves when their transaction commits.

Sign-up and the email pages run in one transaction with their audit entry (SPEC §7). The
confirmation mail used to be sent from inside it: over SMTP the home tenant's audit-chain
lock was held for the whole exchange, and a page rolled back (its entry failed) had already
mailed a confirmation link for an address that was never added.
"""

from __future__ import annotations

from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD, UserFactory, mail_sent

pytestmark = pytest.mark.django_db


def _reauthenticated(user) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


def test_an_address_added_is_mailed_once_its_page_commits() -> None:
    user = UserFactory(email="mailer@example.com")
    client = _reauthenticated(user)
    with mail_sent():
        client.post("/accounts/email/", {"action_add": "", "email": "second@example.com"})
    assert EmailAddress.objects.filter(user=user, email="second@example.com").exists()
    assert [m.to for m in mail.outbox] == [["second@example.com"]]


def test_a_page_rolled_back_mails_nothing() -> None:
    user = UserFactory(email="rolled@example.com")
    client = _reauthenticated(user)
    with mail_sent(), mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down")):
        response = client.post("/accounts/email/", {"action_add": "", "email": "never@example.com"})
    assert response.status_code == 500
    assert not EmailAddress.objects.filter(email="never@example.com").exists()
    assert mail.outbox == []
