"""The chain is keyed: an entry appended by someone who can write the table but does not
hold the app's audit key does not verify.

SPEC §7: entries cannot be edited or deleted by the application's runtime role. It must be
able to INSERT, so with a public hash (SHA-256 over the entry and the previous hash) anyone
holding that role (a leaked ``DATABASE_URL``, an SQL injection) could append entries, move
the head and have ``verify_audit`` call the chain intact. Entries are now signed with an
HMAC under ``TATER_AUDIT_CHAIN_KEY`` (derived from ``SECRET_KEY`` unless set).
"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit import chain
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from orgs import services as org_services
from tests.audit.conftest import raw_sql, run_command
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def busy_tenant(name="Acme", renames=3):
    tenant, owner, (org,) = make_tenant(name=name)
    for i in range(renames):
        org_services.org_rename(organization=org, name=f"{name} {i}", actor=owner)
    return tenant, owner, org


def forge_after_tail(tenant, entry_hash_of):
    """Append an entry after the chain's last one and move the head, with the table rights
    the runtime role has (INSERT; UPDATE of the head row), hashing it as ``entry_hash_of``."""
    last = AuditEvent.objects.filter(tenant=tenant).order_by("-seq").first()
    forged = AuditEvent(
        public_id=f"evt-{uuid.uuid4()}",
        tenant=tenant,
        organization=last.organization,
        actor_user=last.actor_user,
        actor_email=last.actor_email,
        channel="ui",
        action="member.role_changed",
        target_type="user",
        target_id="usr-1",
        target_repr="mallory@evil.test",
        changes={"role": {"from": "viewer", "to": "admin"}},
        ip="203.0.113.9",
        user_agent="forger",
        request_id="f" * 32,
        created_at=timezone.now(),
        seq=last.seq + 1,
        prev_hash=last.entry_hash,
    )
    forged.entry_hash = entry_hash_of(chain.event_values(forged), forged.prev_hash)
    AuditEvent.objects.bulk_create([forged])
    raw_sql(
        "UPDATE audit_auditchainhead SET last_seq = %s, last_hash = %s WHERE chain = %s",
        [forged.seq, forged.entry_hash, f"tenant:{tenant.pk}"],
    )
    return forged


def unkeyed_hash(values, prev_hash):
    """How releases before the keyed chain hashed an entry (version 1: plain SHA-256)."""
    return hashlib.sha256(chain.canonical_content(values, version=1) + b"\n" + prev_hash.encode()).hexdigest()


def rewrite_as_unkeyed(tenant):
    """The tenant's chain as an older release wrote it, as a deployment that upgrades finds it
    (SQLite: the test database's role may rewrite rows there)."""
    prev = GENESIS_HASH
    for row in AuditEvent.objects.filter(tenant=tenant).order_by("seq"):
        digest = unkeyed_hash(chain.event_values(row), prev)
        raw_sql("UPDATE audit_auditevent SET prev_hash = %s, entry_hash = %s WHERE id = %s", [prev, digest, row.pk])
        prev = digest
    AuditChainHead.objects.filter(chain=f"tenant:{tenant.pk}").update(last_hash=prev)


def plain_sha256(values, prev_hash):
    digest = hashlib.sha256(chain.canonical_content(values))
    digest.update(b"\n" + prev_hash.encode())
    return digest.hexdigest()


def test_a_chain_written_by_the_app_verifies():
    tenant, *_ = busy_tenant()
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 0 and report["chains"][0]["intact"]


def test_an_entry_appended_with_the_public_hash_is_caught():
    tenant, *_ = busy_tenant()
    forged = forge_after_tail(tenant, plain_sha256)
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 1
    problem = report["chains"][0]["problem"]
    assert (problem["seq"], problem["entry_id"]) == (forged.seq, forged.public_id)


def test_an_entry_signed_with_another_key_is_caught(settings):
    tenant, *_ = busy_tenant()
    settings.TATER_AUDIT_CHAIN_KEY = "the attacker's guess"
    forge_after_tail(tenant, chain.compute_hash)
    settings.TATER_AUDIT_CHAIN_KEY = ""
    code, _ = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 1


def test_a_rotated_secret_key_kept_as_a_fallback_still_verifies(settings):
    tenant, *_ = busy_tenant()
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a brand new secret key, rotated after the entries were written"
    settings.SECRET_KEY_FALLBACKS = [old]
    code, _ = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 0
    settings.SECRET_KEY_FALLBACKS = []
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 1 and "TATER_AUDIT_CHAIN_KEY" in report["chains"][0]["problem"]["message"]


def test_a_rolling_upgrade_mixes_both_until_the_chain_is_sealed():
    """Entries hashed before the chain was keyed (plain SHA-256) still verify, and while nodes
    of both releases run (a rolling upgrade) unkeyed entries may follow keyed ones: a chain
    reported broken forever by its own release's upgrade could never be repaired. Once
    ``seal_audit`` sealed the chain (run when every node runs the keyed release), an unkeyed
    entry after the seal is a forgery."""
    if connection.vendor == "postgresql":
        pytest.skip("the append-only trigger forbids rewriting entries on PostgreSQL")
    tenant, owner, org = busy_tenant(renames=0)
    rewrite_as_unkeyed(tenant)
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 0
    org_services.org_rename(organization=org, name="Keyed now", actor=owner)  # a node of the new release
    forge_after_tail(tenant, unkeyed_hash)  # stands for a node of the old release, still running
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 0

    code, report = run_command("seal_audit")
    assert code == 0 and f"tenant:{tenant.public_id}" in report["sealed"]
    seal = AuditEvent.objects.filter(tenant=tenant).order_by("-seq").first()
    assert (seal.action, seal.channel) == ("audit.chain_keyed", "system")
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 0
    forge_after_tail(tenant, unkeyed_hash)
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 1


def test_seal_audit_seals_each_unsealed_chain_once_and_leaves_chains_born_keyed_alone():
    """A chain that starts keyed (created by this release: a new install's chains) is sealed
    from its first entry: nothing to do. A chain from before is sealed once."""
    if connection.vendor == "postgresql":
        pytest.skip("the append-only trigger forbids rewriting entries on PostgreSQL")
    tenant, *_ = busy_tenant(renames=1)
    keyed_tenant, *_ = busy_tenant("Globex", renames=1)
    rewrite_as_unkeyed(tenant)
    before = {t: AuditEvent.objects.filter(tenant=t).count() for t in (tenant, keyed_tenant)}

    assert run_command("seal_audit")[0] == 0
    assert run_command("seal_audit")[0] == 0
    call_command("migrate", verbosity=0)  # seals nothing: the rollout may not be over

    assert AuditEvent.objects.filter(tenant=tenant).count() == before[tenant] + 1  # once
    assert AuditEvent.objects.filter(tenant=keyed_tenant).count() == before[keyed_tenant]
    assert run_command("verify_audit", "--tenant", tenant.public_id)[0] == 0
    forge_after_tail(keyed_tenant, unkeyed_hash)
    assert run_command("verify_audit", "--tenant", keyed_tenant.public_id)[0] == 1
