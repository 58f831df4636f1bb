"""Review s48: the audit commands name a tenant's chain by the tenant's public id. README
"Design": "integer primary keys never leave the server"; docs/audit.md documents the JSON
``verify_audit --json``, ``seal_audit --json`` and ``purge_audit --json`` print for scripts and
SIEMs, which named a chain ``"tenant:1"`` (the database key) beside ``"tenant_id": "ten-…"``.
An operator correlating the output with the API and the admin sees only public ids."""

from __future__ import annotations

import re
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.audit.conftest import raw_sql, run_command
from tests.audit.test_keyed_chain import busy_tenant
from tests.audit.test_review_s36_chain_key_switch import DEDICATED

pytestmark = pytest.mark.django_db


def _no_database_key(text: str, tenant) -> None:
    assert not re.search(rf"tenant:{tenant.pk}\b", text)


def test_verify_audit_names_the_chain_by_the_tenants_public_id():
    tenant, *_ = busy_tenant("Initech", renames=1)
    code, report = run_command("verify_audit", "--tenant", tenant.public_id)
    assert code == 0
    assert report["chains"] == [
        {**report["chains"][0], "chain": f"tenant:{tenant.public_id}", "tenant_id": tenant.public_id}
    ]

    code, every = run_command("verify_audit", "--all")
    assert code == 0
    assert {c["chain"] for c in every["chains"]} == {"global", f"tenant:{tenant.public_id}"}


def test_a_broken_chain_is_named_by_public_id_in_its_report_and_error():
    tenant, *_ = busy_tenant("Initech", renames=2)
    raw_sql("UPDATE audit_auditevent SET target_repr = 'forged' WHERE tenant_id = %s AND seq = 2", [tenant.pk])
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("verify_audit", "--tenant", tenant.public_id, "--json", stdout=out, stderr=err)
    assert caught.value.returncode == 1
    assert f"tenant:{tenant.public_id}" in str(caught.value)
    _no_database_key(str(caught.value) + out.getvalue() + err.getvalue(), tenant)


def test_seal_audit_lists_the_chains_it_sealed_by_public_id(settings):
    tenant, *_ = busy_tenant("Initech", renames=1)
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED
    out = StringIO()
    call_command("seal_audit", stdout=out, stderr=StringIO())
    assert f"tenant:{tenant.public_id}" in out.getvalue()
    _no_database_key(out.getvalue(), tenant)
    settings.TATER_AUDIT_CHAIN_KEY = DEDICATED + " again"
    code, result = run_command("seal_audit")
    assert code == 0 and f"tenant:{tenant.public_id}" in result["sealed"]
    _no_database_key(str(result), tenant)


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="purging entries a second old needs a minimum retention of 0 days, which the database refuses",
)
def test_purge_audit_names_the_chains_it_purged_by_public_id(settings):
    tenant, *_ = busy_tenant("Initech", renames=1)
    time.sleep(1.2)  # the entries above become older than the period purged
    settings.TATER_AUDIT_MIN_RETENTION_DAYS = 0
    code, purged = run_command("purge_audit", "--older-than", "1s")
    assert code == 0, purged
    mine = [c for c in purged["chains"] if c["tenant_id"] == tenant.public_id]
    assert [c["chain"] for c in mine] == [f"tenant:{tenant.public_id}"]
    _no_database_key(str(purged), tenant)
