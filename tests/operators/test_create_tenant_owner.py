"""SPEC §8 on the command line: ``create_tenant --owner-email`` gives a tenant to an existing
account only if it proved it holds the address (as the admin's tenant form already does).
Anyone can sign up with an address they do not hold and wait for an operator to make that
squatted account the owner of the real company's tenant."""

from __future__ import annotations

import io
import json

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError

from orgs.models import Tenant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def create(email: str, *extra: str) -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("create_tenant", "--name", "Initech", "--owner-email", email, *extra, "--json", stdout=out)
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, json.loads(out.getvalue().strip().splitlines()[-1])


def test_a_squatted_unverified_account_does_not_become_the_owner():
    UserFactory(email="boss@initech.test", verified=False)
    code, body = create("Boss@Initech.test")
    assert code == 1
    assert "verified" in body["message"]
    assert not Tenant.objects.filter(name="Initech").exists()


def test_a_verified_account_becomes_the_owner():
    user = UserFactory(email="boss@initech.test", verified=True)
    code, body = create("boss@initech.test")
    assert code == 0 and body["owner_id"] == user.public_id


def test_an_operator_account_needs_no_verified_address_row():
    # `createsuperuser` makes accounts without allauth's address rows: operators own tenants too.
    admin = UserFactory(email="ops@initech.test", verified=False, is_staff=True, is_superuser=True)
    assert not EmailAddress.objects.filter(user=admin, verified=True).exists()
    code, body = create("ops@initech.test")
    assert code == 0 and body["owner_id"] == admin.public_id


def test_the_operator_can_vouch_for_an_unverified_account_explicitly():
    user = UserFactory(email="boss@initech.test", verified=False)
    code, body = create("boss@initech.test", "--owner-unverified-ok")
    assert code == 0 and body["owner_id"] == user.public_id
