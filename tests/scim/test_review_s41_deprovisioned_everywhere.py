"""A person in two tenants whom both identity providers deprovision (SPEC §13:
"Deprovisioning ... ends the user's sessions"). While another tenant still holds the account
(a role there, or an active User in its directory) a tenant's deprovisioning ends only its
own roles. A User another directory has deprovisioned holds nothing: once every tenant has
let the person go, the last deprovisioning ends their sessions like any other, and deactivates
the account when its address is in that tenant's verified domains (review s41)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from accounts.models import UserSession
from orgs import services as org_services
from scim.models import ScimUser
from tests.scim.conftest import patch_op
from tests.scim.test_lifecycle import group_with, provision, signed_in

pytestmark = pytest.mark.django_db

User = get_user_model()


def off(directory: Any, user_id: str) -> None:
    # Entra ID's shape: a capitalised op and the boolean as a string.
    r = directory.scim.patch(f"/Users/{user_id}", patch_op({"op": "Replace", "path": "active", "value": "False"}))
    assert r.status_code == 200, r.content


def on(directory: Any, user_id: str) -> None:
    r = directory.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert r.status_code == 200, r.content


@pytest.fixture
def sam(acme, globex) -> dict[str, Any]:
    """Sam (sam@acme.test, Acme's verified domain) is provisioned by Acme and is a member at
    Globex, whose directory lists him as he joins."""
    acme_id = provision(acme, "sam@acme.test")["id"]
    user = User.objects.get(email="sam@acme.test")
    group_with(acme, "Eng", acme_id, org=acme.orgs[0], role="member")
    org_services.org_member_set(organization=globex.orgs[0], user=user, role="member")
    globex_id = ScimUser.objects.get(tenant=globex.tenant, user=user).public_id
    return {"user": user, "acme": acme_id, "globex": globex_id}


def test_the_domain_owner_deprovisioning_last_ends_sessions_and_the_account(acme, globex, sam):
    user = sam["user"]
    browser = signed_in(user)
    off(globex, sam["globex"])
    user.refresh_from_db()
    assert user.is_active and UserSession.objects.filter(user=user).exists()  # Acme still holds him
    off(acme, sam["acme"])
    user.refresh_from_db()
    assert not user.is_active
    assert not UserSession.objects.filter(user=user).exists()
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    # Acme's reprovisioning gives the account back (Acme's deprovisioning switched it off).
    on(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active


def test_a_guest_tenant_deprovisioning_last_ends_sessions_and_the_domain_owners_stop_holds(acme, globex, sam):
    user = sam["user"]
    signed_in(user)
    off(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active and UserSession.objects.filter(user=user).exists()  # Globex still holds him
    off(globex, sam["globex"])
    user.refresh_from_db()
    # Globex does not speak for acme.test, but Acme, which does, let him go first: its
    # deprovisioning now takes effect (review s42: test_review_s42_domain_owner_let_go.py).
    assert not user.is_active
    assert not UserSession.objects.filter(user=user).exists()


def test_an_active_user_elsewhere_still_holds_the_account(acme, globex, sam):
    user = sam["user"]
    signed_in(user)
    off(acme, sam["acme"])
    user.refresh_from_db()
    assert user.is_active and UserSession.objects.filter(user=user).exists()


def test_a_deprovisioned_user_elsewhere_does_not_shield_the_account_from_its_own_domain(acme, globex, sam):
    off(globex, sam["globex"])
    r = acme.scim.patch(
        f"/Users/{sam['acme']}", patch_op({"op": "replace", "path": "userName", "value": "samuel@acme.test"})
    )
    assert r.status_code == 200, r.content
    sam["user"].refresh_from_db()
    assert sam["user"].email == "samuel@acme.test"
