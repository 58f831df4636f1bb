"""allauth's account pages (email addresses, password, sign out) look and read like Tater's
own (SPEC §9): a removal is a destructive button, an address's state is a badge, the pages
lead back to Account security."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


def owner_client() -> Client:
    _, owner, _ = make_tenant()
    client = Client()
    assert client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD}).status_code == 302
    return client


def test_email_page_buttons_say_what_they_do() -> None:
    text = owner_client().get("/accounts/email/").content.decode()
    remove = re.search(r'<button[^>]*name="action_remove"[^>]*>', text)
    resend = re.search(r'<button[^>]*name="action_send"[^>]*>', text)
    assert remove and 'class="danger"' in remove.group(0)
    assert resend and 'class="secondary"' in resend.group(0)


def test_email_page_shows_the_address_state_as_badges() -> None:
    text = owner_client().get("/accounts/email/").content.decode()
    assert re.search(r'<span class="badge badge-active"[^>]*>\s*Verified', text)
    assert re.search(r'<span class="badge badge-info"[^>]*>\s*Primary', text)


@pytest.mark.parametrize("path", ["/accounts/email/", "/accounts/password/change/", "/accounts/3rdparty/"])
def test_account_pages_lead_back_to_account_security(path: str) -> None:
    text = owner_client().get(path).content.decode()
    assert re.search(r'<nav class="breadcrumbs"[^>]*>.*href="/accounts/security/"', text, re.S)
