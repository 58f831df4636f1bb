"""allauth keeps an account's addresses lower-cased, and Tater finds an additional address by
a prefix of its lower-cased spellings (an indexed, case-sensitive match on PostgreSQL). An
address row written in mixed case (SCIM's address of a provisioned account, an operator's
entry in the admin) was invisible there: ``Kim@Work.test`` on an account neither signed in
typed ``kim@work.test`` nor counted as held, so a second account could take the address.
Every address row is stored lower-cased, whoever writes it."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_mixed_case_row_is_stored_lower_cased_and_signs_in() -> None:
    kim = UserFactory(email="kim@home.test", verified=True)
    EmailAddress.objects.create(user=kim, email="Kim.Lee@Work.test", verified=True, primary=False)
    assert EmailAddress.objects.filter(user=kim, email="kim.lee@work.test").exists()
    r = APIClient().post("/api/v1/auth/login", {"email": "kim.lee@work.test", "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["user"]["user"]["email"] == "kim@home.test"


@pytest.mark.django_db(transaction=True)
def test_existing_mixed_case_rows_are_lower_cased_merged_or_left_for_an_operator() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [
        ("accounts", "0011_email_keys_compare_domains_through_idna"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]
    after = [("accounts", "0012_lower_case_address_rows")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        user, address = apps.get_model("accounts", "User"), apps.get_model("account", "EmailAddress")
        ana, bob, cy = (
            user.objects.create(email=f"{n}@home.test", email_canonical=f"{n}@home.test", password="!")
            for n in ("ana", "bob", "cy")
        )
        address.objects.create(user=ana, email="Ana@Work.test", verified=True, primary=False)
        address.objects.create(user=bob, email="bob@work.test", verified=False, primary=False)
        address.objects.create(user=bob, email="BOB@work.test", verified=True, primary=False)
        address.objects.create(user=cy, email="ana@work.test", verified=True, primary=False)  # taken first...
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
        rows = {(a.user.email, a.email, a.verified) for a in EmailAddress.objects.select_related("user")}
        assert ("bob@home.test", "bob@work.test", True) in rows  # merged, verified carried over
        assert not any(email == "BOB@work.test" for _, email, _ in rows)
        # ana's row would clash with cy's verified one: left for an operator (shared_addresses)
        assert ("ana@home.test", "Ana@Work.test", True) in rows
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
