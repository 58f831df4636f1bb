"""SPEC §8: a tenant's SSO requirement governs the addresses of its verified domain. A member
whose account holds such an address must not leave the requirement behind by making another
(personal) address primary and removing the company one from the account's email page:
from then on the account signed in with its password, past the identity provider (which can
no longer stop it at deprovisioning)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from tests.factories import PASSWORD, UserFactory, add_member, mail_sent, make_tenant, require_sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(db: Any) -> Any:
    tenant, _owner, (org,) = make_tenant(name="Corp")
    require_sso(tenant, "corp.example")
    return add_member(org, "member", user=UserFactory(email="kim@corp.example"))


def add_personal_address(member: Any) -> Client:
    browser = Client()
    browser.force_login(member)
    # Signed in through the identity provider a moment ago (what allauth's reauthentication asks).
    session = browser.session
    session["account_authentication_methods"] = [{"method": "password", "at": time.time(), "reauthenticated": True}]
    session["account_authentication_methods_user"] = str(member.pk)
    session.save()
    with mail_sent():
        browser.post("/accounts/email/", {"action_add": "", "email": "kim@personal.example"})
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[-1].body)
    assert link is not None
    browser.post(link.group(0))
    assert EmailAddress.objects.get(user=member, email="kim@personal.example").verified
    return browser


def password_sign_in(login: str) -> Client:
    client = Client()
    client.post("/accounts/login/", {"login": login, "password": PASSWORD})
    return client


def test_the_company_address_cannot_be_removed_while_the_tenant_requires_sso(member: Any) -> None:
    browser = add_personal_address(member)
    browser.post("/accounts/email/", {"action_primary": "", "email": "kim@personal.example"})
    browser.post("/accounts/email/", {"action_remove": "", "email": "kim@corp.example"})
    assert EmailAddress.objects.filter(user=member, email="kim@corp.example").exists()


@pytest.mark.parametrize("login", ["kim@personal.example", "kim@corp.example"])
def test_a_personal_primary_address_is_no_way_around_sso(member: Any, login: str) -> None:
    browser = add_personal_address(member)
    browser.post("/accounts/email/", {"action_primary": "", "email": "kim@personal.example"})
    member.refresh_from_db()
    client = password_sign_in(login)
    assert "_auth_user_id" not in client.session


def test_the_page_says_why_the_address_stays(member: Any) -> None:
    browser = add_personal_address(member)
    browser.post("/accounts/email/", {"action_primary": "", "email": "kim@personal.example"})
    page = browser.post("/accounts/email/", {"action_remove": "", "email": "kim@corp.example"}, follow=True)
    assert "requires single sign-on" in page.content.decode()


def test_an_address_outside_any_sso_domain_is_still_removable(member: Any) -> None:
    browser = add_personal_address(member)
    browser.post("/accounts/email/", {"action_remove": "", "email": "kim@personal.example"})
    assert not EmailAddress.objects.filter(user=member, email="kim@personal.example").exists()
