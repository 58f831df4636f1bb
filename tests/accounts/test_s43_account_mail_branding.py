"""Account mail says it is from Tater (SPEC §8, §9).

Password resets and address confirmations come from django-allauth's templates, which name the
site after the Host the request named: "[127.0.0.1:8000] Please Confirm Your Email Address",
"Hello from tater.example.com!". Tater's own mail says "[Tater]" (security notices) or "on
Tater" (invitations); a person who gets a reset they did not ask for should see the product's
name, not a host name they may not recognise (and a phishing copy could not be told apart).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.factories import mail_sent, make_tenant

pytestmark = pytest.mark.django_db


def _only_mail() -> Any:
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    return mail.outbox[0]


def test_a_password_reset_says_tater() -> None:
    _tenant, owner, _orgs = make_tenant(name="Acme")
    mail.outbox.clear()
    with mail_sent():
        r = Client().post("/accounts/password/reset/", {"email": owner.email}, HTTP_HOST="localhost")
    assert r.status_code == 302
    sent = _only_mail()
    assert sent.subject.startswith("[Tater] "), sent.subject
    assert "localhost" not in sent.subject
    assert sent.body.startswith("Hello from Tater!"), sent.body[:80]
    assert "Thank you for using Tater!" in sent.body
    assert "http://localhost/accounts/password/reset/key/" in sent.body  # the link itself unchanged


def test_a_sign_up_confirmation_says_tater() -> None:
    mail.outbox.clear()
    with mail_sent():
        r = Client().post(
            "/accounts/signup/",
            {"email": "new@example.com", "password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"},
            HTTP_HOST="localhost",
        )
    assert r.status_code == 302, r.content[:300]
    sent = _only_mail()
    assert sent.subject.startswith("[Tater] "), sent.subject
    assert sent.body.startswith("Hello from Tater!"), sent.body[:80]
