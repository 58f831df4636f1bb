"""A purge does not launder a forged entry, nor unseal the chain it purges.

``verify_audit`` reports an entry appended without the audit key (unkeyed) to a sealed chain.
When the retention purge later cut the chain just before such an entry, that entry became the
chain's first remaining one, and a chain whose first entry is unkeyed counted as never sealed:
the forgery then verified, and so did every unkeyed entry appended afterwards. The purge is
the one sanctioned deletion (SPEC §7): what it leaves must verify as strictly as before it.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection

from orgs import services as org_services
from tests.audit.conftest import run_command
from tests.audit.test_keyed_chain import busy_tenant, forge_after_tail, unkeyed_hash

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor == "postgresql",
        reason="purging entries a second old needs a minimum retention of 0 days, which the database refuses",
    ),
]


def verify(tenant):
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    return code, report["chains"][0]


def test_a_forgery_left_first_by_a_purge_is_still_reported(settings):
    tenant, owner, org = busy_tenant(renames=2)  # started keyed: sealed from its first entry
    time.sleep(1.2)
    forged = forge_after_tail(tenant, unkeyed_hash)
    org_services.org_rename(organization=org, name="After the forgery", actor=owner)
    assert verify(tenant)[0] == 1

    settings.TATER_AUDIT_MIN_RETENTION_DAYS = 0
    code, purged = run_command("purge_audit", "--older-than", "1s")
    assert code == 0 and any(c["chain"] == f"tenant:{tenant.public_id}" for c in purged["chains"])
    code, report = verify(tenant)
    assert code == 1 and report["problem"]["entry_id"] == forged.public_id


def test_a_purge_leaves_the_chain_sealed(settings):
    tenant, owner, org = busy_tenant(renames=2)
    time.sleep(1.2)
    org_services.org_rename(organization=org, name="Young", actor=owner)
    settings.TATER_AUDIT_MIN_RETENTION_DAYS = 0
    assert run_command("purge_audit", "--older-than", "1s")[0] == 0
    assert verify(tenant)[0] == 0
    forge_after_tail(tenant, unkeyed_hash)
    assert verify(tenant)[0] == 1
