"""Review of 4f8437a..9fa23fe (attempt slots, proxy addresses, key rotation, home tenant,
credential exchange expiry): failing tests for the regressions found.

- home tenant: once a person's stored home is gone (the home tenant deleted, so the
  column is SET_NULL), the *next* membership anywhere became their home, ahead of a tenant
  they joined long before: another tenant adding the person took their sign-ins.
"""

from __future__ import annotations

import pytest

from accounts import services as account_services
from orgs.models import Tenant
from tests.factories import UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db


def test_a_lost_home_is_not_taken_by_the_next_tenant_to_add_the_person():
    person = UserFactory()
    home, _, (home_org,) = make_tenant(name="Home")
    older, _, (older_org,) = make_tenant(name="Older")
    add_member(home_org, "member", person)
    add_member(older_org, "member", person)
    person.refresh_from_db()
    assert person.home_tenant_id == home.pk
    Tenant.objects.filter(pk=home.pk).delete()  # e.g. an operator removes it in the admin
    person.refresh_from_db()
    assert person.home_tenant_id is None
    assert account_services.home_tenant(person) == older

    other, _, (other_org,) = make_tenant(name="Other")
    add_member(other_org, "member", person)  # another tenant adds the person's address

    assert account_services.home_tenant(person) == older, "sign-ins went to the tenant that added them last"
