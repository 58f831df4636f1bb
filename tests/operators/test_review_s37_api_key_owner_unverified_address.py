"""Review s37: ``create_api_key --user`` and an address its account never verified (SPEC §8, §10).

Today ``create_api_key --user`` started finding the key's owner by any address an account
holds, as ``create_tenant --owner-email`` does. But ``create_tenant`` (and adding a member)
gives an account a role by an additional address only once it verified it; the command did
not ask. Anyone may add any address to their account unverified (the email page): a member
who added ``alice@acme.test``, the colleague an operator means to make a key for, got the key
(listed to them, theirs to rotate, its secret then theirs). An additional address names the
key's owner only once verified, as everywhere else; the account's own (primary) address
names it as before.
"""

from __future__ import annotations

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import ApiKey
from orgs.models import TenantMembership
from orgs.roles import TenantRole
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def create_key(user: str, tenant_id: str) -> tuple[int, dict]:
    out = io.StringIO()
    args = ["--user", user, "--tenant", tenant_id, "--scopes", "*:read", "--json"]
    try:
        call_command("create_api_key", *args, stdout=out)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def squatter_in(tenant: object) -> object:
    bob = UserFactory(email="bob@acme.test", verified=True)
    TenantMembership.objects.create(tenant=tenant, user=bob, role=TenantRole.OWNER)
    EmailAddress.objects.create(user=bob, email="alice@acme.test", verified=False, primary=False)
    return bob


def test_an_unverified_additional_address_does_not_name_the_keys_owner() -> None:
    tenant, _, _ = make_tenant(name="Acme", orgs=1)
    squatter_in(tenant)

    code, body = create_key("Alice@Acme.test", tenant.public_id)

    assert code != 0, body
    assert not ApiKey.objects.filter(owner__email="bob@acme.test").exists()


def test_a_verified_additional_address_and_the_own_address_still_name_it() -> None:
    tenant, _, _ = make_tenant(name="Acme", orgs=1)
    bob = squatter_in(tenant)
    EmailAddress.objects.create(user=bob, email="robert@acme.test", verified=True, primary=False)

    for typed in ("robert@acme.test", "BOB@acme.test"):
        code, body = create_key(typed, tenant.public_id)
        assert code == 0, body
        assert ApiKey.objects.get(public_id=body["id"]).owner == bob
