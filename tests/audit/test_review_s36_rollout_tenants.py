"""A tenant that signs up during a rolling upgrade has a chain that verifies once sealed.

Upgrading to the keyed chain (or switching the audit secret), nodes of the old release
(configuration) keep writing for a while after the new ones started. Anyone may sign up,
which creates a tenant, so the operator cannot keep tenants from being created in that
window. Such a tenant's chain starts with a keyed entry (a new node) and may then get an
unkeyed one (an old node), and was reported ``unkeyed`` forever: a chain started keyed was
sealed from its first entry, even while the deployment had not been sealed yet. What a careful
operator expects: once ``seal_audit`` has run after the rollout, every chain verifies, a later
unkeyed entry is a forgery, a second run changes nothing; and a new install (never unkeyed)
still refuses unkeyed entries from each chain's first entry, without any seal.
"""

from __future__ import annotations

import pytest
from django.db import connection

from audit import registry as A
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from audit.services import audit_record
from orgs import services as org_services
from tests.audit.conftest import raw_sql, run_command
from tests.audit.test_keyed_chain import busy_tenant, forge_after_tail, rewrite_as_unkeyed, unkeyed_hash

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor == "postgresql", reason="the append-only trigger forbids rewriting entries on PostgreSQL"
    ),
]


def global_entry(email="nobody@example.test"):
    return audit_record(action=A.USER_LOGIN_FAILED, tenant=None, changes={"email": email})


def rewrite_global_as_unkeyed():
    from audit import chain

    prev = GENESIS_HASH
    for row in AuditEvent.objects.filter(tenant__isnull=True).order_by("seq"):
        digest = unkeyed_hash(chain.event_values(row), prev)
        raw_sql("UPDATE audit_auditevent SET prev_hash = %s, entry_hash = %s WHERE id = %s", [prev, digest, row.pk])
        prev = digest
    AuditChainHead.objects.filter(chain="global").update(last_hash=prev)


def upgraded_deployment():
    """Chains written by the release before the keyed chain: a tenant's and the global one."""
    old_tenant, *_ = busy_tenant("Before the upgrade", renames=1)
    global_entry()
    rewrite_as_unkeyed(old_tenant)
    rewrite_global_as_unkeyed()
    return old_tenant


def verify_all():
    return run_command("verify_audit", "--all")


def test_a_tenant_created_during_the_rollout_verifies_once_sealed():
    upgraded_deployment()
    # The rollout: a new node signs the new tenant up, an old node then writes to it.
    tenant, owner, org = busy_tenant("Signed up during the rollout", renames=1)
    forge_after_tail(tenant, unkeyed_hash)  # stands for a node of the old release
    org_services.org_rename(organization=org, name="Keyed again", actor=owner)
    global_entry("late@example.test")

    code, result = run_command("seal_audit")
    assert code == 0 and f"tenant:{tenant.public_id}" in result["sealed"]
    code, report = verify_all()
    assert code == 0, report

    assert run_command("seal_audit")[1]["sealed"] == []  # a second run changes nothing
    forged = forge_after_tail(tenant, unkeyed_hash)  # after the seal: a forgery
    code, report = verify_all()
    assert code == 1
    problem = next(c["problem"] for c in report["chains"] if c["problem"])
    assert (problem["kind"], problem["entry_id"]) == ("unkeyed", forged.public_id)


def test_a_tenant_created_after_the_seal_refuses_unkeyed_entries_from_its_first_entry():
    upgraded_deployment()
    run_command("seal_audit")
    tenant, *_ = busy_tenant("Created after the seal", renames=1)
    assert f"tenant:{tenant.public_id}" not in run_command("seal_audit")[1]["sealed"]
    forge_after_tail(tenant, unkeyed_hash)
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 1


def test_a_new_install_refuses_unkeyed_entries_without_any_seal():
    tenant, *_ = busy_tenant("First tenant", renames=1)  # maybe before any entry of the global chain
    global_entry()
    later, *_ = busy_tenant("Second tenant", renames=1)
    for each in (tenant, later):
        forge_after_tail(each, unkeyed_hash)
        assert run_command("verify_audit", "--tenant", each.public_id)[0] == 1


def test_purging_the_global_chains_first_entries_and_seals_keeps_what_they_told(settings):
    """The global chain is purged like any other: what its first entry and seals told (a new
    install; the switch to a dedicated key sealed at that time) must outlive them, or a chain
    started under the dedicated key after the switch would take entries signed with the old
    SECRET_KEY again."""
    import time

    from tests.audit.test_review_s36_chain_key_switch import DEDICATED, signed_with_secret_key

    global_entry()
    busy_tenant("Under SECRET_KEY", renames=1)
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    assert "global" in run_command("seal_audit")[1]["sealed"]
    time.sleep(1.2)
    tenant, *_ = busy_tenant("Under the dedicated key", renames=1)
    settings.TATER_AUDIT_MIN_RETENTION_DAYS = 0
    code, purged = run_command("purge_audit", "--older-than", "1s")
    assert code == 0 and any(c["chain"] == "global" for c in purged["chains"])
    assert not AuditEvent.objects.filter(tenant__isnull=True, action="audit.chain_keyed").exists()
    assert verify_all()[0] == 0

    forge_after_tail(tenant, signed_with_secret_key(settings))
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 1


def test_switching_secrets_a_tenant_created_during_the_switch_then_after_its_seal(settings):
    """The same for a switch to a dedicated key: a chain started under it while nodes without
    it still write takes their SECRET_KEY entries until seal_audit; one started after refuses
    them from its first entry."""
    from tests.audit.test_review_s36_chain_key_switch import DEDICATED, signed_with_secret_key

    global_entry()  # a new install: the global chain starts under SECRET_KEY
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    during, *_ = busy_tenant("During the switch", renames=1)
    forge_after_tail(during, signed_with_secret_key(settings))  # a node without the dedicated key
    assert verify_all()[0] == 0
    code, result = run_command("seal_audit")
    assert {"global", f"tenant:{during.public_id}"} <= set(result["sealed"])
    assert verify_all()[0] == 0

    after, *_ = busy_tenant("After the seal", renames=1)
    assert run_command("seal_audit")[1]["sealed"] == []
    for tenant in (during, after):
        forge_after_tail(tenant, signed_with_secret_key(settings))
        assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 1
