"""Review of the day's changes (ec638f1..f290c0e): what they broke. Expectations come from the
SPEC and the README, never computed from the code under test.

- **The admin's tenant-add form hands a tenant to an unverified account** (SPEC §8).
- **A settings form saved for the org its page showed confirms on another org's page**
  (tenant settings, org rename; SPEC §4).
- **The per-key row-write cap hides the old secret's use during a rotation** (SPEC §2).
"""

from __future__ import annotations

import pytest

# --- The admin's new tenant-add form hands a tenant to an unverified account ---------------
# SPEC §8: people are added directly only when their email is verified; otherwise (an account
# somebody signed up in advance with another person's address) they get an invitation. The
# admin's add form (d14c274) takes an existing account for the owner's email as it is: whoever
# signed up first with ceo@globex.test, never proving they hold it, became the owner of the
# tenant an operator set up for Globex (SPEC §1: everything in the tenant, plan, policies,
# unbound keys).


@pytest.mark.django_db
def test_the_admin_does_not_make_an_unverified_account_owner_of_a_new_tenant() -> None:
    from orgs.models import Tenant, TenantMembership
    from tests.factories import UserFactory
    from tests.operators.test_admin_sessions_groups import superuser_in_admin
    from tests.security.test_channel_parity_review import admin_form_data

    squatter = UserFactory(email="ceo@globex.test", verified=False)  # signed up, never confirmed
    admin = superuser_in_admin()
    data = admin_form_data(admin, "/admin/orgs/tenant/add/")
    data.update({"name": "Globex", "plan": "pro", "key_creation_policy": "members", "owner_email": "ceo@globex.test"})
    response = admin.post("/admin/orgs/tenant/add/", data)
    assert response.status_code in (200, 302)
    assert not TenantMembership.objects.filter(user=squatter).exists()
    if response.status_code == 200:  # refused: the operator is told why, on the owner field
        assert "owner_email" in response.context["adminform"].form.errors
        assert not Tenant.objects.filter(name="Globex").exists()
