"""SPEC §8, one address per person: an operator naming a new tenant's owner (``manage.py
create_tenant``, the admin's tenant form) by an address an account holds as an additional
address (any spelling) reaches that account, under the same "has it proved the address?"
rule as a primary one. It used to create a second account with that address as its
primary: one address on two accounts, and the company's tenant owned by an empty account
nobody can reach (the sign-in form finds the first account)."""

from __future__ import annotations

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command

from apikeys.models import ApiKey
from orgs.models import Tenant, TenantMembership
from tests.factories import PASSWORD, UserFactory
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.operators.test_create_tenant_owner import create
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db


def holder(second: str, *, verified: bool) -> object:
    user = UserFactory(email="kim@home.test", verified=True)
    EmailAddress.objects.create(user=user, email=second, verified=verified, primary=False)
    return user


@pytest.mark.parametrize(
    ("stored", "typed"),
    [("kim@initech.test", "Kim@Initech.test"), ("straße@initech.test", "strasse@initech.test")],
)
def test_a_verified_second_address_names_its_account(stored: str, typed: str) -> None:
    kim = holder(stored, verified=True)
    code, body = create(typed)
    assert code == 0, body
    assert body["owner_id"] == kim.public_id
    assert get_user_model().objects.count() == 1


def test_an_unverified_second_address_is_refused_not_given_to_a_new_account() -> None:
    holder("kim@initech.test", verified=False)
    code, body = create("kim@initech.test")
    assert code == 1
    assert "verified" in body["message"]
    assert get_user_model().objects.count() == 1
    assert not Tenant.objects.filter(name="Initech").exists()


def test_the_admin_form_reaches_the_same_account() -> None:
    admin = superuser_in_admin()
    kim = holder("straße@globex.test", verified=True)
    add = "/admin/orgs/tenant/add/"
    data = admin_form_data(admin, add)
    data.update(
        {"name": "Globex", "plan": "pro", "key_creation_policy": "members", "owner_email": "strasse@globex.test"}
    )
    r = admin.post(add, data)
    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    assert TenantMembership.objects.get(tenant__name="Globex").user == kim


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/auth/login"])
def test_a_second_address_stored_with_sharp_s_signs_in_typed_with_ss(path: str) -> None:
    # Stored as the person typed it (``straße@``); typed at sign-in as ``strasse@``, the same
    # address to Tater (SPEC §8: NFKC + case folding).
    from rest_framework.test import APIClient

    holder("straße@initech.test", verified=True)
    r = APIClient().post(path, {"email": "strasse@initech.test", "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["user"]["user"]["email"] == "kim@home.test"


def test_create_api_key_names_its_owner_by_any_of_their_addresses() -> None:
    kim = holder("straße@initech.test", verified=True)
    code, body = create("kim@home.test")
    assert code == 0, body
    out = io.StringIO()
    args = ["--user", "strasse@initech.test", "--tenant", body["tenant_id"], "--scopes", "*:read", "--json"]
    call_command("create_api_key", *args, stdout=out)
    created = json.loads(out.getvalue().strip().splitlines()[-1])
    assert ApiKey.objects.get(public_id=created["id"]).owner == kim
