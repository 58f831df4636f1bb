"""GET /api/v1/audit-log/: scope, filters, cursor paging, CSV, and who may read it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from audit import registry as A
from audit.models import AuditEvent
from orgs import services as org_services
from tests.factories import add_member, make_key

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def get(api, raw=None, **params):
    headers = {"HTTP_X_API_KEY": raw} if raw else {}
    return api.get(URL, params, **headers)


def actions(resp):
    return [e["action"] for e in resp.json()["entries"]]


class TestReading:
    def test_key_sees_its_orgs_entries_newest_first(self, api, world):
        r = get(api, world["owner_raw"])
        assert r.status_code == 200
        body = r.json()
        ids = [e["id"] for e in body["entries"]]
        expected = list(
            AuditEvent.objects.filter(organization=world["org1"]).order_by("-id").values_list("public_id", flat=True)
        )
        assert ids == expected
        assert body["next_cursor"] is None
        assert {e["organization_id"] for e in body["entries"]} == {world["org1"].public_id}
        # An org-bound key never sees tenant-level entries, even its owner's.
        assert A.TENANT_CREATED not in actions(r)

    def test_entry_shape_for_a_key_write(self, api, world):
        created = api.post(
            "/api/v1/keys/",
            {"name": "ci"},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
            HTTP_USER_AGENT="ci-bot/1.0",
            HTTP_X_REQUEST_ID="req-abcdef123",
        )
        assert created.status_code == 201
        entry = get(api, world["owner_raw"], action="api_key.created").json()["entries"][0]
        assert entry == {
            "id": entry["id"],
            "time": entry["time"],
            "channel": "api",
            "action": "api_key.created",
            "actor": {"user_id": world["owner"].public_id, "email": world["owner"].email},
            "via": "api",
            "key_id": world["owner_key"].public_id,
            "target": {"type": "apikey", "id": created.json()["id"], "display": entry["target"]["display"]},
            "organization_id": world["org1"].public_id,
            "tenant_id": world["tenant"].public_id,
            "changes": entry["changes"],
            "ip": "127.0.0.1",
            "user_agent": "ci-bot/1.0",
            "request_id": "req-abcdef123",
        }
        assert entry["id"].startswith("evt-")
        assert entry["changes"]["name"] == {"to": "ci"}
        assert created.json()["key"] not in str(entry)

    def test_tenant_owner_session_also_sees_tenant_level_entries(self, api, world):
        api.force_login(world["owner"])
        r = get(api, organizationId=world["org1"].public_id, limit=500)
        assert r.status_code == 200
        got = actions(r)
        assert A.TENANT_CREATED in got
        orgs = {e["organization_id"] for e in r.json()["entries"]}
        assert orgs == {world["org1"].public_id, None}
        # org2's entries stay in org2.
        assert world["org2"].public_id not in str(r.json())

    def test_org_admin_session_sees_only_the_org(self, api, world):
        api.force_login(world["admin"])
        r = get(api)
        assert r.status_code == 200
        assert {e["organization_id"] for e in r.json()["entries"]} == {world["org1"].public_id}

    def test_member_may_read(self, api, world):
        api.force_login(world["member"])
        assert get(api).status_code == 200

    def test_viewer_key_is_denied(self, api, world):
        # A read-only key of someone who is now a viewer: viewers never read the audit log.
        user = add_member(world["org1"], "member")
        _, raw = make_key(user=user, tenant=world["tenant"], org=world["org1"], scopes=["*:read"])
        assert get(api, raw).status_code == 200
        org_services.org_member_set(organization=world["org1"], user=user, role="viewer", actor=world["owner"])
        r = get(api, raw)
        assert r.status_code == 403
        body = r.json()
        assert body["error"] == "PERMISSION_DENIED"
        assert body["details"]["required_permissions"] == ["audit:read"]
        assert "audit:read" not in body["details"]["current_permissions"]

    def test_key_without_audit_scope_is_denied(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["keys:read"])
        assert get(api, raw).json()["error"] == "PERMISSION_DENIED"

    def test_viewer_session_is_denied(self, api, world):
        api.force_login(world["viewer"])
        assert get(api).status_code == 403

    def test_anonymous(self, api, world):
        r = get(api)
        assert (r.status_code, r.json()["error"]) == (401, "UNAUTHORIZED")

    def test_other_tenants_entries_never_appear(self, api, world):
        api.post("/api/v1/keys/", {"name": "globex ci"}, format="json", HTTP_X_API_KEY=world["other_raw"])
        mine = get(api, world["owner_raw"], limit=500).json()
        assert world["other_tenant"].public_id not in str(mine)
        assert "globex ci" not in str(mine)
        theirs = get(api, world["other_raw"], limit=500).json()
        assert {e["tenant_id"] for e in theirs["entries"]} == {world["other_tenant"].public_id}
        assert world["org1"].public_id not in str(theirs)
        # Asking for a foreign org is refused, not answered empty.
        r = get(api, world["other_raw"], organizationId=world["org1"].public_id)
        assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED")

    def test_unbound_owner_key_sees_tenant_level_entries(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
        r = get(api, raw, organizationId=world["org2"].public_id, limit=500)
        assert r.status_code == 200
        assert {e["organization_id"] for e in r.json()["entries"]} == {world["org2"].public_id, None}
        assert A.TENANT_CREATED in actions(r)


class TestFilters:
    @pytest.fixture
    def history(self, api, world):
        """In org1: a session rename (channel api), a key-made key (api + key id)."""
        api.force_login(world["owner"])
        org_services.org_rename(organization=world["org1"], name="Renamed", actor=world["owner"])
        api.logout()
        created = api.post(
            "/api/v1/keys/",
            {"name": "by key", "scopes": ["keys:read"]},
            format="json",
            HTTP_X_API_KEY=world["member_raw"],
        )
        assert created.status_code == 201
        return world

    def test_channel(self, api, history):
        r = get(api, history["owner_raw"], channel="api")
        assert actions(r) == ["api_key.created"]
        assert {e["channel"] for e in get(api, history["owner_raw"], channel="system").json()["entries"]} == {"system"}

    def test_action_and_group(self, api, history):
        assert actions(get(api, history["owner_raw"], action="organization.updated")) == ["organization.updated"]
        got = actions(get(api, history["owner_raw"], action="api_key.*"))
        assert got and all(a.startswith("api_key.") for a in got)

    def test_actor_by_email_and_id(self, api, history):
        member = history["member"]
        by_email = get(api, history["owner_raw"], actor=member.email.upper()).json()["entries"]
        by_id = get(api, history["owner_raw"], actor=member.public_id).json()["entries"]
        assert by_email and by_email == by_id
        assert {e["actor"]["email"] for e in by_email} == {member.email}
        assert {e["actor"]["user_id"] for e in by_email} == {member.public_id}

    def test_actor_by_numeric_or_malformed_id_is_refused(self, api, history):
        for actor in (str(history["member"].pk), "usr-nope"):
            r = get(api, history["owner_raw"], actor=actor)
            assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR", actor
            assert "actor" in r.json()["details"]["fields"], actor

    def test_an_id_nobody_has_and_another_tenants_user_answer_alike(self, api, history, db):
        # A well-formed id matches no entry either way: the filter is no oracle of which ids
        # exist (as an email of nobody matches none).
        from tests.factories import UserFactory

        stranger = UserFactory()
        for actor in ("usr-00000000-0000-4000-8000-000000000000", stranger.public_id):
            r = get(api, history["owner_raw"], actor=actor)
            assert (r.status_code, r.json()["entries"]) == (200, []), actor

    def test_key(self, api, history):
        r = get(api, history["owner_raw"], key=history["member_key"].public_id)
        assert actions(r) == ["api_key.created"]
        assert r.json()["entries"][0]["key_id"] == history["member_key"].public_id

    def test_since_until(self, api, world):
        base = timezone.now()
        with mock.patch("django.utils.timezone.now", return_value=base - timedelta(days=3)):
            org_services.org_rename(organization=world["org1"], name="Three days ago", actor=world["owner"])
        org_services.org_rename(organization=world["org1"], name="Today", actor=world["owner"])
        since = (base - timedelta(days=1)).isoformat()
        names = [
            e["changes"]["name"]["to"]
            for e in get(api, world["owner_raw"], action="organization.updated", since=since).json()["entries"]
        ]
        assert names == ["Today"]
        day = (base - timedelta(days=3)).date().isoformat()
        names = [
            e["changes"]["name"]["to"]
            for e in get(api, world["owner_raw"], action="organization.updated", until=day).json()["entries"]
        ]
        assert names == ["Three days ago"]
        both = get(api, world["owner_raw"], action="organization.updated", since=day, until=day).json()["entries"]
        assert [e["changes"]["name"]["to"] for e in both] == ["Three days ago"]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("channel", "email"),
            ("action", "api_key.exploded"),
            ("action", "nothing.*"),
            ("actor", "bob"),
            ("actor", "42"),
            ("since", "yesterday"),
            ("until", "2026-13-45"),
            ("limit", "0"),
            ("limit", "many"),
            ("cursor", "forged"),
            ("format", "xml"),
        ],
    )
    def test_bad_values_are_400_naming_the_field(self, api, world, field, value):
        r = get(api, world["owner_raw"], **{field: value})
        assert r.status_code == 400
        body = r.json()
        assert body["error"] == "VALIDATION_ERROR"
        assert field in body["message"]
        assert list(body["details"]["fields"]) == [field]

    def test_since_after_until(self, api, world):
        r = get(api, world["owner_raw"], since="2026-02-01", until="2026-01-01")
        assert (r.status_code, list(r.json()["details"]["fields"])) == (400, ["until"])


class TestPaging:
    def test_cursor_walks_every_entry_once_and_is_stable(self, api, world):
        for i in range(9):
            org_services.org_rename(organization=world["org1"], name=f"Name {i}", actor=world["owner"])
        expected = list(
            AuditEvent.objects.filter(organization=world["org1"]).order_by("-id").values_list("public_id", flat=True)
        )
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
            body = get(api, world["owner_raw"], **params).json()
            seen += [e["id"] for e in body["entries"]]
            pages += 1
            if pages == 1:
                # Entries written while paging do not shift later pages.
                org_services.org_rename(organization=world["org1"], name="Meanwhile", actor=world["owner"])
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == expected
        assert pages == -(-len(expected) // 4)

    def test_page_queries_use_no_count(self, api, world, django_assert_max_num_queries):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            get(api, world["owner_raw"], limit=2)
        audit_queries = [q["sql"] for q in captured.captured_queries if "audit_auditevent" in q["sql"]]
        assert len(audit_queries) == 1
        assert "COUNT(" not in audit_queries[0].upper()
        assert "LIMIT 3" in audit_queries[0].upper()


class TestCsv:
    def test_csv_export_streams_all_matching_entries(self, api, world):
        r = get(api, world["owner_raw"], format="csv", channel="system")
        assert r.status_code == 200
        assert r.streaming
        assert r["Content-Type"].startswith("text/csv")
        assert "attachment" in r["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
        expected = AuditEvent.objects.filter(organization=world["org1"], channel="system").count()
        assert len(rows) == expected > 0
        assert {row["organization_id"] for row in rows} == {world["org1"].public_id}
        assert rows[0]["id"].startswith("evt-")

    def test_csv_neutralises_formulas(self, api, world):
        org_services.org_rename(organization=world["org1"], name='=HYPERLINK("http://evil")', actor=world["owner"])
        r = get(api, world["owner_raw"], format="csv", action="organization.updated")
        (row,) = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
        assert row["target_display"].startswith("'=")

    def test_csv_errors_are_json(self, api, world):
        r = get(api, world["owner_raw"], format="csv", since="nope")
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
