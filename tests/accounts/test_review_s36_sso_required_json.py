"""The JSON sign-in (``auth/login``, ``auth/token``) for an address whose tenant requires SSO
answers as the sign-in form does: 403 ``SSO_REQUIRED`` without checking the password (the form
sends every such address to the IdP). It used to check it first: a wrong password was a 401
and the right one a 403, so anyone could test guessed or leaked passwords of a tenant's SSO
accounts (which no longer sign in with them); and the answers told which addresses of the
domain have accounts the requirement exempts."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from orgs.models import OrgMembership
from tests.factories import PASSWORD, UserFactory, make_tenant, require_sso

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> Any:
    tenant, owner, (org,) = make_tenant(name="Acme")
    require_sso(tenant, "acme.test")
    member = UserFactory(email="bob@acme.test")
    OrgMembership.objects.create(organization=org, user=member, role="member")
    outsider = UserFactory(email="carol@acme.test")  # her own account, not Acme's: exempt
    make_tenant(name="Carol's", owner=outsider)
    return member, outsider


def _answer(path: str, email: str, password: str) -> tuple[int, str]:
    r = APIClient().post(path, {"email": email, "password": password}, format="json", REMOTE_ADDR="192.0.2.77")
    return r.status_code, r.json().get("error", "")


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/token"])
def test_the_answer_does_not_tell_whether_the_password_is_right(acme: Any, path: str) -> None:
    member, _ = acme
    assert _answer(path, member.email, "wrong-password") == (403, "SSO_REQUIRED")
    assert _answer(path, member.email, PASSWORD) == (403, "SSO_REQUIRED")
    # No password was checked: nothing counted or recorded as a failed sign-in.
    assert not AuditEvent.objects.filter(action="user.login_failed").exists()


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/token"])
def test_every_address_of_the_domain_gets_the_same_refusal(acme: Any, path: str) -> None:
    _, outsider = acme
    unknown = _answer(path, "nobody@acme.test", "wrong-password")
    exempt_wrong = _answer(path, outsider.email, "wrong-password")
    assert unknown == exempt_wrong == (403, "SSO_REQUIRED")


def test_an_exempt_account_still_signs_in_with_its_password(acme: Any) -> None:
    _, outsider = acme
    assert _answer("/api/v1/auth/login", outsider.email, PASSWORD)[0] == 200
