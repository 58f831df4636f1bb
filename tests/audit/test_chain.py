"""The hash chain, verify_audit and purge_audit."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from audit import chain
from audit import registry as A
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from audit.services import audit_record
from orgs import services as org_services
from tests.audit.conftest import raw_sql, run_command
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def chain_of(tenant):
    return list(chain.chain_entries(tenant.pk if tenant else None).order_by("seq"))


def busy_tenant(name="Acme", renames=5):
    tenant, owner, (org,) = make_tenant(name=name)
    for i in range(renames):
        org_services.org_rename(organization=org, name=f"{name} {i}", actor=owner)
    return tenant, owner, org


def verify(tenant):
    return run_command("verify_audit", "--tenant", tenant.public_id)


class TestLinking:
    def test_each_tenant_has_its_own_linked_chain(self):
        acme, *_ = busy_tenant("Acme", renames=3)
        globex, *_ = busy_tenant("Globex", renames=2)
        for tenant, expected in ((acme, 5), (globex, 4)):
            rows = chain_of(tenant)
            assert [r.seq for r in rows] == list(range(1, expected + 1))
            assert rows[0].prev_hash == GENESIS_HASH
            for before, after in zip(rows, rows[1:], strict=False):
                assert after.prev_hash == before.entry_hash
            for row in rows:
                assert row.entry_hash == chain.compute_hash(chain.event_values(row), row.prev_hash)
            head = AuditChainHead.objects.get(chain=f"tenant:{tenant.pk}")
            assert (head.last_seq, head.last_hash) == (rows[-1].seq, rows[-1].entry_hash)

    def test_entries_without_tenant_form_the_global_chain(self):
        user = UserFactory()
        first = audit_record(action=A.USER_LOGIN_FAILED, tenant=None, actor_email="Nobody@Example.com")
        second = audit_record(action=A.USER_LOGIN, tenant=None, actor_user=user)
        assert (first.seq, second.seq) == (1, 2)
        assert second.prev_hash == first.entry_hash
        assert first.actor_email == "nobody@example.com"
        assert run_command("verify_audit", "--global")[0] == 0

    def test_rolled_back_write_leaves_no_gap(self):
        tenant, owner, org = busy_tenant(renames=1)
        with pytest.raises(RuntimeError), mock.patch("apikeys.keycheck.forget", side_effect=RuntimeError("boom")):
            org_services.org_rename(organization=org, name="Never", actor=owner)
        org_services.org_rename(organization=org, name="Later", actor=owner)
        assert [r.seq for r in chain_of(tenant)] == [1, 2, 3, 4]
        assert verify(tenant)[0] == 0


class TestVerify:
    def test_intact_chain_exits_zero_with_summary(self):
        tenant, *_ = busy_tenant(renames=3)
        code, report = verify(tenant)
        assert code == 0
        assert report["intact"] is True
        (only,) = report["chains"]
        assert (only["tenant_id"], only["entries"], only["first_seq"], only["last_seq"]) == (tenant.public_id, 5, 1, 5)
        assert only["head_hash"] == chain_of(tenant)[-1].entry_hash
        assert only["problem"] is None

    def test_human_output(self, capsys):
        from django.core.management import call_command

        tenant, *_ = busy_tenant(renames=1)
        call_command("verify_audit", "--tenant", tenant.public_id)
        assert f"Chain tenant {tenant.public_id}: intact, 3 entries, seq 1..3" in capsys.readouterr().out

    def test_edited_row_is_caught(self):
        tenant, *_ = busy_tenant()
        victim = chain_of(tenant)[3]
        raw_sql("UPDATE audit_auditevent SET actor_email = %s WHERE id = %s", ["someone@else.com", victim.pk])
        code, report = verify(tenant)
        assert code == 1
        problem = report["chains"][0]["problem"]
        assert (problem["kind"], problem["seq"], problem["entry_id"]) == ("edited", 4, victim.public_id)

    def test_edited_row_with_recomputed_hash_breaks_the_next_link(self):
        tenant, *_ = busy_tenant()
        victim = chain_of(tenant)[2]
        victim.changes = {"name": {"from": "x", "to": "y"}}
        forged = chain.compute_hash(chain.event_values(victim), victim.prev_hash)
        raw_sql(
            "UPDATE audit_auditevent SET changes = %s, entry_hash = %s WHERE id = %s",
            ['{"name": {"from": "x", "to": "y"}}', forged, victim.pk],
        )
        code, report = verify(tenant)
        assert code == 1
        assert (report["chains"][0]["problem"]["kind"], report["chains"][0]["problem"]["seq"]) == ("link", 4)

    def test_deleted_row_is_caught(self):
        tenant, *_ = busy_tenant()
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [chain_of(tenant)[2].pk])
        code, report = verify(tenant)
        assert code == 1
        problem = report["chains"][0]["problem"]
        assert (problem["kind"], problem["seq"]) == ("missing", 4)
        assert "Entries 3..3 are missing" in problem["message"]

    def test_deleted_first_and_last_rows_are_caught(self):
        tenant, *_ = busy_tenant()
        rows = chain_of(tenant)
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [rows[-1].pk])
        code, report = verify(tenant)
        assert (code, report["chains"][0]["problem"]["kind"]) == (1, "missing")
        assert "at the end of the chain" in report["chains"][0]["problem"]["message"]
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [rows[0].pk])
        code, report = verify(tenant)
        assert (code, report["chains"][0]["problem"]["kind"], report["chains"][0]["problem"]["seq"]) == (
            1,
            "missing",
            2,
        )

    def test_reordered_rows_are_caught(self):
        tenant, *_ = busy_tenant()
        a, b = chain_of(tenant)[2:4]
        raw_sql("UPDATE audit_auditevent SET seq = -1 WHERE id = %s", [a.pk])
        raw_sql("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [a.seq, b.pk])
        raw_sql("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [b.seq, a.pk])
        code, report = verify(tenant)
        assert code == 1
        assert report["chains"][0]["problem"]["seq"] == 3

    def test_other_tenants_chain_is_not_affected(self):
        acme, *_ = busy_tenant("Acme")
        globex, *_ = busy_tenant("Globex")
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [chain_of(acme)[1].pk])
        assert verify(acme)[0] == 1
        assert verify(globex)[0] == 0
        code, report = run_command("verify_audit", "--all")
        assert code == 1
        assert {c["tenant_id"]: c["intact"] for c in report["chains"]} == {
            None: True,  # the global chain (entries with no tenant)
            acme.public_id: False,
            globex.public_id: True,
        }

    def test_all_checks_a_chain_whose_head_row_was_deleted(self):
        # --all found the chains through their head rows: deleting a tenant's head row (the
        # attacker's next step after rewriting its entries) took that chain out of the check.
        acme, *_ = busy_tenant("Acme")
        globex, *_ = busy_tenant("Globex")
        AuditChainHead.objects.filter(chain=f"tenant:{acme.pk}").delete()
        code, report = run_command("verify_audit", "--all")
        assert code == 1
        chains = {c["tenant_id"]: c for c in report["chains"]}
        assert chains[acme.public_id]["intact"] is False and chains[acme.public_id]["problem"]["kind"] == "head"
        assert chains[globex.public_id]["intact"] is True

    def test_unknown_tenant(self):
        code, report = run_command("verify_audit", "--tenant", "nope")
        assert code == 1
        assert report["error"] == "NOT_FOUND"


def at(when):
    return mock.patch("django.utils.timezone.now", return_value=when)


class TestPurge:
    def make_history(self):
        """Acme: 4 entries 400 days old, then 3 recent ones."""
        now = timezone.now()
        with at(now - timedelta(days=400)):
            tenant, owner, org = busy_tenant(renames=2)
        org_services.org_rename(organization=org, name="Recent 1", actor=owner)
        org_services.org_rename(organization=org, name="Recent 2", actor=owner)
        org_services.org_rename(organization=org, name="Recent 3", actor=owner)
        return tenant

    def test_purge_deletes_old_prefix_is_audited_and_chain_still_verifies(self):
        tenant = self.make_history()
        old_rows = chain_of(tenant)[:4]
        code, result = run_command("purge_audit", "--older-than", "365d")
        assert code == 0
        assert result["deleted"] == 4
        (purged,) = result["chains"]
        assert (purged["tenant_id"], purged["through_seq"], purged["anchor_seq"]) == (tenant.public_id, 4, 5)
        remaining = chain_of(tenant)
        assert [r.seq for r in remaining] == [5, 6, 7, 8]
        event = remaining[-1]
        assert (event.action, event.channel, event.public_id) == (A.AUDIT_PURGED, "system", purged["event_id"])
        assert event.changes["anchor"] == {"seq": 5, "prev_hash": old_rows[-1].entry_hash}
        assert event.changes["deleted"] == 4
        assert verify(tenant)[0] == 0
        # Nothing more to purge: no new entry.
        assert run_command("purge_audit", "--older-than", "365d")[1]["deleted"] == 0
        assert len(chain_of(tenant)) == 4
        # A later deletion outside purge_audit is still caught.
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [remaining[0].pk])
        code, report = verify(tenant)
        assert (code, report["chains"][0]["problem"]["kind"]) == (1, "missing")

    def test_purging_a_whole_chain_leaves_the_purge_entry_as_anchor(self):
        # Past times only: on PostgreSQL the database checks entry ages against its own clock.
        now = timezone.now()
        with at(now - timedelta(days=2000)):
            tenant, *_ = busy_tenant(renames=1)
        with at(now - timedelta(days=1000)):
            assert run_command("purge_audit", "--older-than", "365d")[1]["deleted"] == 3
        (event,) = chain_of(tenant)
        assert (event.seq, event.action) == (4, A.AUDIT_PURGED)
        assert verify(tenant)[0] == 0
        # Purging again later purges the purge entry too and still verifies.
        assert run_command("purge_audit", "--older-than", "365d")[1]["deleted"] == 1
        (event,) = chain_of(tenant)
        assert event.seq == 5
        assert verify(tenant)[0] == 0

    def test_forged_purge_anchor_is_caught(self):
        tenant = self.make_history()
        run_command("purge_audit", "--older-than", "365d")
        purge = chain_of(tenant)[-1]
        raw_sql(
            "UPDATE audit_auditevent SET changes = %s WHERE id = %s",
            ['{"anchor": {"seq": 6, "prev_hash": "x"}}', purge.pk],
        )
        assert verify(tenant)[0] == 1

    def test_purge_refuses_a_chain_missing_its_boundary_entry(self):
        tenant = self.make_history()
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [chain_of(tenant)[3].pk])
        code, result = run_command("purge_audit", "--older-than", "365d")
        assert code == 1
        assert "run verify_audit" in result["message"]
        assert len(chain_of(tenant)) == 6

    def test_bad_duration(self):
        assert run_command("purge_audit", "--older-than", "soon")[0] == 1
        assert run_command("purge_audit", "--older-than", "0d")[0] == 1

    @pytest.mark.parametrize("period", ["364d", "52w", "30d", "12h"])
    def test_refuses_a_period_below_the_minimum_retention(self, period):
        tenant = self.make_history()
        code, result = run_command("purge_audit", "--older-than", period)
        assert code == 1
        assert "at least 365 days" in result["message"]
        assert len(chain_of(tenant)) == 7

    def test_minimum_retention_is_a_setting(self, settings):
        settings.TATER_AUDIT_MIN_RETENTION_DAYS = 730
        tenant = self.make_history()
        assert run_command("purge_audit", "--older-than", "365d")[0] == 1
        assert len(chain_of(tenant)) == 7

    def test_model_refuses_update_and_delete(self):
        tenant, *_ = busy_tenant(renames=0)
        from audit.models import AppendOnlyError

        row = AuditEvent.objects.filter(tenant=tenant).first()
        row.action = "tenant.updated"
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(tenant=tenant).update(action="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(tenant=tenant).delete()
        assert AuditEvent.objects.filter(tenant=tenant, action=A.TENANT_CREATED).count() == 1
