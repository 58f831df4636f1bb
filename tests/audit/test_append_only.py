"""Entries cannot be changed or deleted: not through the ORM, not in the admin, and on
PostgreSQL not even with SQL (except purge_audit's sanctioned DELETE through
tater_audit_purge). Attacks by real database roles: test_db_roles.py."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from audit import registry as A
from audit.models import AppendOnlyError, AuditEvent
from audit.services import audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(world):
    return AuditEvent.objects.filter(tenant=world["tenant"]).order_by("id").first()


class TestOrm:
    def test_save_and_delete_refused(self, entry):
        entry.action = A.TENANT_UPDATED
        with pytest.raises(AppendOnlyError):
            entry.save()
        with pytest.raises(AppendOnlyError):
            entry.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=entry.pk).update(action="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()
        entry.refresh_from_db()
        assert entry.action == A.TENANT_CREATED

    def test_unregistered_action_and_secret_fields_refused(self, world):
        with pytest.raises(ValueError, match="Unregistered"):
            audit_record(action="api_key.stolen", tenant=world["tenant"])
        with pytest.raises(ValueError, match="secret"):
            audit_record(action=A.API_KEY_CREATED, tenant=world["tenant"], changes={"key": "tater_x"})


@pytest.fixture
def staff_client(client, db):
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    with override_settings(TATER_ADMIN_REQUIRES_OTP=False):
        yield client


class TestAdmin:
    def test_list_with_filters_and_search(self, staff_client, world, entry):
        base = "/admin/audit/auditevent/"
        r = staff_client.get(base)
        assert r.status_code == 200
        assert "tenant.created" in r.content.decode()
        assert staff_client.get(base, {"channel__exact": "system"}).status_code == 200
        assert staff_client.get(base, {"action__exact": "tenant.created"}).status_code == 200
        found = staff_client.get(base, {"q": world["owner_key"].public_id}).content.decode()
        assert "api_key.created" in found
        by_request = staff_client.get(base, {"q": entry.request_id}).content.decode()
        assert "tenant.created" in by_request
        # No add button, no bulk delete action.
        html = r.content.decode()
        assert "/admin/audit/auditevent/add/" not in html
        assert "delete_selected" not in html

    def test_change_page_is_read_only_and_post_refused(self, staff_client, entry):
        url = f"/admin/audit/auditevent/{entry.pk}/change/"
        r = staff_client.get(url)
        assert r.status_code == 200
        assert 'name="_save"' not in r.content.decode()
        assert staff_client.post(url, {"action": "tenant.updated"}).status_code == 403
        entry.refresh_from_db()
        assert entry.action == A.TENANT_CREATED

    def test_delete_and_add_refused(self, staff_client, entry):
        url = f"/admin/audit/auditevent/{entry.pk}/delete/"
        assert staff_client.get(url).status_code == 403
        assert staff_client.post(url, {"post": "yes"}).status_code == 403
        assert staff_client.get("/admin/audit/auditevent/add/").status_code == 403
        assert staff_client.post(
            "/admin/audit/auditevent/", {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
        ).status_code in (200, 302, 403)
        assert AuditEvent.objects.filter(pk=entry.pk).exists()

    def test_chain_heads_are_read_only_too(self, staff_client, world):
        assert staff_client.get("/admin/audit/auditchainhead/").status_code == 200
        assert staff_client.get("/admin/audit/auditchainhead/add/").status_code == 403


@pytest.mark.realservices
class TestPostgresTrigger:
    """On the real database the table itself refuses UPDATE and DELETE."""

    def test_raw_update_and_delete_raise(self, entry):
        assert connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            for sql in (
                "UPDATE audit_auditevent SET action = 'x' WHERE id = %s",
                "DELETE FROM audit_auditevent WHERE id = %s",
            ):
                with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                    cursor.execute(sql, [entry.pk])
        assert AuditEvent.objects.get(pk=entry.pk).action == A.TENANT_CREATED

    def test_only_the_purge_function_deletes_and_nobody_may_call_it_by_default(self, entry):
        # The roles themselves (runtime role, owner, a role granted everything) are attacked in
        # test_db_roles.py; here: what migration 0004 leaves in place.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT has_function_privilege('public', 'tater_audit_purge(bigint, bigint)', 'EXECUTE'),"
                " (SELECT prosecdef FROM pg_proc WHERE proname = 'tater_audit_purge'),"
                " EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'tater_audit_no_truncate' AND tgenabled = 'O')"
            )
            assert cursor.fetchone() == (False, True, True)
