"""A member of a tenant that requires SSO, reached on the sign-in form through another of their
addresses (a personal one, outside the tenant's verified domains): the form must not tell
whether the password typed is right. It used to check it: a wrong one was "not correct", the
right one "requires single sign-on", so anyone knowing the address could test guessed or
leaked passwords of the account (the form sends the tenant's own addresses to the IdP without
a check, and the JSON sign-in answers SSO_REQUIRED without one)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from audit.models import AuditEvent
from orgs.models import OrgMembership
from tests.factories import PASSWORD, UserFactory, make_tenant, require_sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob() -> Any:
    tenant, owner, (org,) = make_tenant(name="Acme")
    require_sso(tenant, "acme.test")
    member = UserFactory(email="bob@acme.test")
    OrgMembership.objects.create(organization=org, user=member, role="member")
    EmailAddress.objects.create(user=member, email="bob@home.test", verified=True, primary=False)
    return member


def _page(password: str, ip: str) -> tuple[int, str]:
    r = Client().post("/accounts/login/", {"login": "bob@home.test", "password": password}, REMOTE_ADDR=ip)
    return r.status_code, r.content.decode()


def test_right_and_wrong_passwords_get_the_same_answer(bob: Any) -> None:
    wrong = _page("wrong-password", "192.0.2.51")
    right = _page(PASSWORD, "192.0.2.52")
    assert wrong[0] == right[0] == 200
    assert "single sign-on" not in right[1]
    assert ("not correct" in wrong[1]) and ("not correct" in right[1])
    # Both recorded against the account as failed password sign-ins; no session.
    failed = AuditEvent.objects.filter(action="user.login_failed", target_id=str(bob.public_id))
    assert failed.count() == 2
    assert not AuditEvent.objects.filter(action="user.login").exists()


def test_re_authentication_of_a_signed_in_member_still_says_why(bob: Any) -> None:
    """Not a guessing surface (the session is the member's): the page says SSO is required."""
    client = Client()
    client.force_login(bob)
    page = client.post("/accounts/reauthenticate/", {"password": PASSWORD}).content.decode()
    assert "single sign-on" in page
