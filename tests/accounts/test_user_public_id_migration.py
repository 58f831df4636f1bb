"""accounts 0007-0009: existing users get distinct ``usr-<uuid>`` ids, then the column is
required and unique."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0006_loginchallenge_webauthn_state")]
AFTER = [("accounts", "0009_user_public_id_unique")]
USER_ID = re.compile(r"^usr-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.mark.django_db(transaction=True)
def test_existing_users_are_given_distinct_public_ids() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old_user = executor.loader.project_state(BEFORE).apps.get_model("accounts", "User")
        for n in range(5):
            old_user.objects.create(email=f"u{n}@example.com", email_canonical=f"u{n}@example.com", password="!")

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)

        new_user = executor.loader.project_state(AFTER).apps.get_model("accounts", "User")
        ids = list(new_user.objects.values_list("public_id", flat=True))
        assert len(ids) == 5 and len(set(ids)) == 5
        assert all(USER_ID.match(i) for i in ids), ids
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
