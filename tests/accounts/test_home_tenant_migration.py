"""accounts 0010: each existing user's home tenant is the tenant of their oldest membership
(tenant role or org role alike); users without one keep none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("accounts", "0009_user_public_id_unique"), ("orgs", "0002_invitation")]
AFTER = [("accounts", "0010_user_home_tenant")]


@pytest.mark.django_db(transaction=True)
def test_existing_users_get_the_tenant_they_joined_first() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        user_model, tenant_model, org_model = (
            old.get_model("accounts", "User"),
            old.get_model("orgs", "Tenant"),
            old.get_model("orgs", "Organization"),
        )
        tenant_membership, org_membership = (
            old.get_model("orgs", "TenantMembership"),
            old.get_model("orgs", "OrgMembership"),
        )

        def user(name: str) -> object:
            return user_model.objects.create(email=f"{name}@example.com", email_canonical=f"{name}@example.com")

        acme, globex = tenant_model.objects.create(name="Acme"), tenant_model.objects.create(name="Globex")
        acme_org = org_model.objects.create(tenant=acme, name="Acme Org", slug="acme-org")
        ann, bob, cat = user("ann"), user("bob"), user("cat")
        earlier = timezone.now() - timedelta(days=30)
        # Ann: an org role at Acme a month ago, a tenant role at Globex since.
        org_membership.objects.create(organization=acme_org, user=ann, role="member")
        org_membership.objects.filter(user=ann).update(created_at=earlier)
        tenant_membership.objects.create(tenant=globex, user=ann, role="admin")
        # Bob: Globex only.
        tenant_membership.objects.create(tenant=globex, user=bob, role="owner")

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)

        new_user = executor.loader.project_state(AFTER).apps.get_model("accounts", "User")
        homes = dict(new_user.objects.values_list("email", "home_tenant_id"))
        assert homes == {"ann@example.com": acme.pk, "bob@example.com": globex.pk, "cat@example.com": None}
        assert cat  # no membership: no home tenant
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
