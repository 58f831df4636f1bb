"""Review s37: a platform operator's account and an address it never verified (SPEC §8).

An operator names a new tenant's owner by address (``create_tenant --owner-email``, the
admin's tenant form); since today that address also finds an account holding it as an
additional address, which must have verified it. A platform operator's (staff) account was
exempt from that check: ``createsuperuser`` makes it with no address row, so its own address
counts as proved. The exemption covered every address the account held, though: a staff
member who added ``boss@initech.test`` to their account, unverified (anyone may add any
address), became the owner of the tenant an operator created for Initech's boss. The
exemption now covers the operator account's own address only.
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from orgs.models import Tenant, TenantMembership
from tests.factories import UserFactory
from tests.operators.test_create_tenant_owner import create

pytestmark = pytest.mark.django_db


def test_an_unverified_additional_address_of_a_staff_account_does_not_make_it_the_owner() -> None:
    staff = UserFactory(email="ops@tater.test", verified=True, is_staff=True)
    EmailAddress.objects.create(user=staff, email="boss@initech.test", verified=False, primary=False)

    code, body = create("boss@initech.test")

    assert code == 1, body
    assert "verified" in body["message"]
    assert not TenantMembership.objects.filter(user=staff).exists()
    assert not Tenant.objects.filter(name="Initech").exists()


def test_a_staff_account_is_still_named_by_its_own_address() -> None:
    staff = UserFactory(email="ops@tater.test", is_staff=True)
    EmailAddress.objects.filter(user=staff).delete()  # as createsuperuser makes it: no address row

    code, body = create("OPS@tater.test")

    assert code == 0, body
    assert TenantMembership.objects.filter(user=staff, tenant__public_id=body["tenant_id"]).exists()
