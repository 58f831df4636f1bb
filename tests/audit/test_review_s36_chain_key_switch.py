"""An old audit secret stops signing once the switch to a new one is sealed.

An operator who sets a dedicated ``TATER_AUDIT_CHAIN_KEY`` (because ``SECRET_KEY`` is shared
with sessions and links, and may have leaked), or rotates ``SECRET_KEY`` keeping the old one in
``SECRET_KEY_FALLBACKS``, expects what the unkeyed → keyed seal already gives: entries written
before still verify under the old secret, and once ``seal_audit`` has sealed the switch, only
the new key verifies what follows. Before, every configured secret verified an entry anywhere
in a chain, so whoever held the old ``SECRET_KEY`` could append entries ``verify_audit``
called intact, forever.
"""

from __future__ import annotations

import json

import pytest

from audit import chain
from audit.models import AuditEvent
from orgs import services as org_services
from tests.audit.conftest import raw_sql, run_command
from tests.audit.test_keyed_chain import busy_tenant, forge_after_tail

pytestmark = pytest.mark.django_db

DEDICATED = "a dedicated audit chain key, kept in the secret store"


def signed_with_secret_key(settings):
    """Hash an entry as whoever holds SECRET_KEY (and not the dedicated key) would."""

    def entry_hash_of(values, prev_hash):
        dedicated, settings.TATER_AUDIT_CHAIN_KEY = settings.TATER_AUDIT_CHAIN_KEY, ""
        try:
            return chain.compute_hash(values, prev_hash)
        finally:
            settings.TATER_AUDIT_CHAIN_KEY = dedicated

    return entry_hash_of


def verify(tenant):
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    return code, report["chains"][0]


def test_after_the_switch_is_sealed_the_old_secret_key_no_longer_signs(settings):
    tenant, owner, org = busy_tenant()  # signed with SECRET_KEY: no dedicated key yet
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    assert verify(tenant)[0] == 0  # entries from before the switch still verify
    org_services.org_rename(organization=org, name="Under the dedicated key", actor=owner)
    # A node whose configuration still lacks the dedicated key (the switch rolls out node by node).
    forge_after_tail(tenant, signed_with_secret_key(settings))
    assert verify(tenant)[0] == 0

    code, result = run_command("seal_audit")
    assert code == 0 and f"tenant:{tenant.public_id}" in result["sealed"]
    seal = AuditEvent.objects.filter(tenant=tenant).order_by("-seq").first()
    assert (seal.action, seal.channel) == ("audit.chain_keyed", "system")
    assert seal.changes.get("signed_with") == "TATER_AUDIT_CHAIN_KEY"
    assert verify(tenant)[0] == 0  # everything before the seal, old secret and all, verifies

    forged = forge_after_tail(tenant, signed_with_secret_key(settings))
    code, report = verify(tenant)
    assert code == 1
    assert (report["problem"]["seq"], report["problem"]["entry_id"]) == (forged.seq, forged.public_id)
    assert "SECRET_KEY" in report["problem"]["message"] or "sealed" in report["problem"]["message"]


def test_a_forged_seal_signed_with_the_old_secret_does_not_reopen_the_chain(settings):
    tenant, *_ = busy_tenant()
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    run_command("seal_audit")
    old_secret = signed_with_secret_key(settings)

    def as_a_seal(values, prev_hash):
        return old_secret({**values, "action": "audit.chain_keyed", "changes": {}}, prev_hash)

    forged = forge_after_tail(tenant, as_a_seal)
    raw_sql(
        "UPDATE audit_auditevent SET action = %s, changes = %s WHERE id = %s",
        ["audit.chain_keyed", json.dumps({}), forged.pk],
    )
    assert AuditEvent.objects.get(pk=forged.pk).action == "audit.chain_keyed"
    forge_after_tail(tenant, old_secret)  # and what it would let through
    assert verify(tenant)[0] == 1


def test_a_chain_started_under_the_dedicated_key_refuses_the_old_secret_without_a_seal(settings):
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    tenant, *_ = busy_tenant("Born dedicated")
    code, result = run_command("seal_audit")
    assert code == 0 and f"tenant:{tenant.pk}" not in result["sealed"]  # nothing to seal
    forge_after_tail(tenant, signed_with_secret_key(settings))
    assert verify(tenant)[0] == 1


def test_sealing_again_changes_nothing(settings):
    tenant, *_ = busy_tenant()
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    assert f"tenant:{tenant.public_id}" in run_command("seal_audit")[1]["sealed"]
    count = AuditEvent.objects.count()
    code, result = run_command("seal_audit")
    assert (code, result["sealed"], AuditEvent.objects.count()) == (0, [], count)


def test_a_rotated_secret_key_stops_signing_once_the_rotation_is_sealed(settings):
    """The same for SECRET_KEY itself (no dedicated key): the old one moves to the front of
    SECRET_KEY_FALLBACKS, as Django documents; old entries verify, new forgeries do not."""
    tenant, *_ = busy_tenant()
    old = settings.SECRET_KEY
    settings.SECRET_KEY = "a brand new secret key, rotated because the old one leaked"
    settings.SECRET_KEY_FALLBACKS = [old]
    assert f"tenant:{tenant.public_id}" in run_command("seal_audit")[1]["sealed"]
    assert verify(tenant)[0] == 0

    def signed_with_old(values, prev_hash):
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = old, []
        try:
            return chain.compute_hash(values, prev_hash)
        finally:
            settings.SECRET_KEY_FALLBACKS = [old]
            settings.SECRET_KEY = "a brand new secret key, rotated because the old one leaked"

    forge_after_tail(tenant, signed_with_old)
    code, report = verify(tenant)
    assert code == 1 and "SECRET_KEY_FALLBACKS[0]" in report["problem"]["message"]


def test_the_report_names_the_retired_setting_when_a_secret_is_listed_twice(settings):
    older = "an older secret key"
    settings.SECRET_KEY_FALLBACKS = [older]
    tenant, *_ = busy_tenant()
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    settings.SECRET_KEY_FALLBACKS = [DEDICATED, older]  # the dedicated key listed there too
    run_command("seal_audit")

    def signed_with_older(values, prev_hash):
        current = settings.SECRET_KEY
        settings.TATER_AUDIT_CHAIN_KEY, settings.SECRET_KEY = "", older
        try:
            return chain.compute_hash(values, prev_hash)
        finally:
            settings.TATER_AUDIT_CHAIN_KEY, settings.SECRET_KEY = DEDICATED, current

    forge_after_tail(tenant, signed_with_older)
    code, report = verify(tenant)
    assert code == 1
    assert "(SECRET_KEY_FALLBACKS[1];" in report["problem"]["message"]
