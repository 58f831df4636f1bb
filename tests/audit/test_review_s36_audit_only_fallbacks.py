"""Review s36 (E): retiring a leaked SECRET_KEY without keeping it trusted by Django.

docs/audit.md tells an operator to set a dedicated ``TATER_AUDIT_CHAIN_KEY`` when
``SECRET_KEY`` may have leaked, and to keep the old secret configured while the entries it
signed are kept. The only place to keep it was ``SECRET_KEY_FALLBACKS``, where Django also
accepts it (sessions, signed cookies, password-reset links): whoever holds the leaked key could
still forge a reset link for any account. Dropping it instead made ``verify_audit`` report every
chain broken at its first entry (a false alarm an operator can do nothing about). Expectation:
a retired secret can be kept for the audit chain alone (``TATER_AUDIT_CHAIN_KEY_FALLBACKS``):
old entries verify, Django no longer trusts it, and it cannot append entries once sealed.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator

from audit import chain
from orgs import services as org_services
from tests.audit.conftest import run_command
from tests.audit.test_keyed_chain import busy_tenant, forge_after_tail

pytestmark = pytest.mark.django_db

LEAKED = "the old SECRET_KEY, which leaked: 0123456789abcdef0123456789abcdef"
FRESH = "the new SECRET_KEY, for sessions and links: fedcba9876543210fedcba98765432"
DEDICATED = "a dedicated audit chain key, kept in the secret store"


def _verify_all() -> tuple[int, dict]:
    return run_command("verify_audit", "--all")


def test_a_leaked_secret_key_kept_for_the_audit_chain_only(settings) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS, settings.TATER_AUDIT_CHAIN_KEY = LEAKED, [], ""
    tenant, owner, org = busy_tenant()
    reset_token = PasswordResetTokenGenerator().make_token(owner)  # what the key's holder could forge

    # The switch: a dedicated audit key, a new SECRET_KEY, the leaked one kept for the chain only.
    settings.TATER_AUDIT_CHAIN_KEY, settings.SECRET_KEY = DEDICATED, FRESH
    settings.TATER_AUDIT_CHAIN_KEY_FALLBACKS = [LEAKED]
    assert not PasswordResetTokenGenerator().check_token(owner, reset_token)
    code, result = run_command("seal_audit")
    assert code == 0
    org_services.org_rename(organization=org, name="After the switch", actor=owner)

    code, report = _verify_all()
    assert code == 0, report
    assert all(c["intact"] for c in report["chains"])

    # The leaked key's holder cannot append an entry that verifies.
    def as_the_leaked_key(values, prev_hash):
        settings.TATER_AUDIT_CHAIN_KEY = LEAKED
        try:
            return chain.compute_hash(values, prev_hash)
        finally:
            settings.TATER_AUDIT_CHAIN_KEY = DEDICATED

    forged = forge_after_tail(tenant, as_the_leaked_key)
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 1
    assert report["chains"][0]["problem"]["entry_id"] == forged.public_id
