"""Every write path leaves exactly one entry with the right action, channel and actor,
in the same transaction as the change."""

from __future__ import annotations

import json
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command

from apikeys import services as key_services
from apikeys.models import ApiKey
from audit import registry as A
from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership, Tenant
from tater import context
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def ui_request():
    """The context a UI request would carry (the middleware sets it for real requests)."""
    ctx = context.RequestContext(channel="ui", ip="203.0.113.7", user_agent="pytest-browser", request_id="req-ui-0001")
    with context.use(ctx):
        yield ctx


def the_one_entry(entries):
    (entry,) = entries.all()
    return entry


def key_of(world, **kwargs):
    api_key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], **kwargs)
    return api_key


KEY_PATHS = {
    "create": (
        A.API_KEY_CREATED,
        lambda w, k: (
            key_services.apikey_create(creator=w["owner"], tenant=w["tenant"], organization=w["org1"], name="n").api_key
        ),
    ),
    "update": (A.API_KEY_UPDATED, lambda w, k: key_services.apikey_update(api_key=k, actor=w["owner"], name="renamed")),
    "revoke": (A.API_KEY_REVOKED, lambda w, k: key_services.apikey_revoke(api_key=k, actor=w["owner"])),
    "rotate": (A.API_KEY_ROTATED, lambda w, k: key_services.apikey_rotate(api_key=k, actor=w["owner"]).api_key),
    "deactivate": (
        A.API_KEY_DEACTIVATED,
        lambda w, k: key_services.apikey_set_active(api_key=k, actor=w["owner"], active=False),
    ),
}


@pytest.mark.parametrize("path", list(KEY_PATHS))
def test_api_key_services(world, entries, ui_request, path):
    api_key = key_of(world)
    start = entries.all()[-1].pk
    action, call = KEY_PATHS[path]
    result = call(world, api_key)
    (entry,) = [e for e in entries.all() if e.pk > start]
    assert entry.action == action
    assert (entry.channel, entry.actor_user_id, entry.actor_email) == ("ui", world["owner"].pk, world["owner"].email)
    assert (entry.tenant_id, entry.organization_id) == (world["tenant"].pk, world["org1"].pk)
    assert (entry.target_type, entry.target_id) == ("apikey", result.public_id)
    assert (entry.ip, entry.user_agent, entry.request_id, entry.api_key_id) == (
        "203.0.113.7",
        "pytest-browser",
        "req-ui-0001",
        "",
    )
    stored = ApiKey.objects.get(pk=result.pk)
    assert stored.digest not in json.dumps(entry.changes)


def test_api_key_reactivate(world, entries, ui_request):
    api_key = key_of(world)
    key_services.apikey_set_active(api_key=api_key, actor=world["owner"], active=False)
    start = entries.all()[-1].pk
    key_services.apikey_set_active(api_key=api_key, actor=world["owner"], active=True)
    (entry,) = [e for e in entries.all() if e.pk > start]
    assert (entry.action, entry.channel, entry.actor_user_id) == (A.API_KEY_ACTIVATED, "ui", world["owner"].pk)
    assert entry.changes == {"is_active": {"from": False, "to": True}}


def test_no_op_writes_leave_no_entry(world, entries):
    api_key = key_of(world)
    start = entries.all()[-1].pk
    key_services.apikey_set_active(api_key=api_key, actor=world["owner"], active=True)
    org_services.org_rename(organization=world["org1"], name=world["org1"].name, actor=world["owner"])
    assert [e for e in entries.all() if e.pk > start] == []


class TestOrgServices:
    def test_tenant_create(self, db, entries, ui_request):
        owner = UserFactory()
        ui_request.user_id = owner.pk
        tenant = org_services.tenant_create(name="Initech", owner=owner)
        entry = the_one_entry(entries)
        assert (entry.action, entry.channel, entry.tenant_id, entry.organization_id) == (
            A.TENANT_CREATED,
            "ui",
            tenant.pk,
            None,
        )
        assert entry.actor_user_id == owner.pk
        assert entry.changes["owner"] == {"to": owner.email}

    def test_tenant_update(self, world, entries, ui_request):
        org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], plan="pro")
        entry = the_one_entry(entries)
        assert (entry.action, entry.channel, entry.actor_user_id) == (A.TENANT_UPDATED, "ui", world["owner"].pk)
        assert entry.changes == {"plan": {"from": "free", "to": "pro"}}

    def test_org_create(self, world, entries, ui_request):
        org = org_services.org_create(tenant=world["tenant"], name="Labs", actor=world["owner"])
        entry = the_one_entry(entries)
        assert (entry.action, entry.organization_id, entry.target_id) == (A.ORG_CREATED, org.pk, org.public_id)
        assert (entry.channel, entry.actor_email) == ("ui", world["owner"].email)

    def test_org_rename(self, world, entries, ui_request):
        org_services.org_rename(organization=world["org1"], name="New name", actor=world["admin"])
        entry = the_one_entry(entries)
        assert (entry.action, entry.actor_user_id, entry.channel) == (A.ORG_UPDATED, world["admin"].pk, "ui")
        assert entry.changes == {"name": {"from": "Acme Org 1", "to": "New name"}}

    def test_tenant_member_set(self, world, entries, ui_request):
        user = UserFactory()
        org_services.tenant_member_set(tenant=world["tenant"], user=user, role="admin", actor=world["owner"])
        entry = the_one_entry(entries)
        assert (entry.action, entry.tenant_id, entry.organization_id) == (A.MEMBER_ADDED, world["tenant"].pk, None)
        assert (entry.target_id, entry.actor_user_id, entry.channel) == (user.public_id, world["owner"].pk, "ui")

    @pytest.mark.parametrize(
        ("before", "after", "action"),
        [
            (None, "member", A.MEMBER_ADDED),
            ("member", "admin", A.MEMBER_ROLE_CHANGED),
            ("viewer", None, A.MEMBER_REMOVED),
        ],
    )
    def test_org_member_set(self, world, entries, ui_request, before, after, action):
        user = UserFactory()
        if before:
            org_services.org_member_set(organization=world["org1"], user=user, role=before, actor=world["owner"])
        start = entries.all()[-1].pk if before else 0
        org_services.org_member_set(organization=world["org1"], user=user, role=after, actor=world["owner"])
        (entry,) = [e for e in entries.all() if e.pk > start]
        assert (entry.action, entry.organization_id, entry.actor_user_id) == (
            action,
            world["org1"].pk,
            world["owner"].pk,
        )
        assert entry.changes == {"role": {"from": before, "to": after}}


class TestChannels:
    def test_key_authenticated_write_over_http(self, api, world, entries):
        r = api.post(
            "/api/v1/keys/",
            {"name": "from ci", "scopes": ["keys:read"]},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 201
        entry = the_one_entry(entries)
        assert (entry.action, entry.channel, entry.api_key_id) == (
            A.API_KEY_CREATED,
            "api",
            world["owner_key"].public_id,
        )
        assert (entry.actor_user_id, entry.actor_email) == (world["owner"].pk, world["owner"].email)
        assert entry.request_id == r["X-Request-ID"]
        assert r.json()["key"] not in json.dumps(entry.changes)

    def test_key_authenticated_revoke_over_http(self, api, world, entries):
        victim = key_of(world, name="victim")
        start = entries.all()[-1].pk
        r = api.post(f"/api/v1/keys/{victim.public_id}/revoke/", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200
        (entry,) = [e for e in entries.all() if e.pk > start]
        assert (entry.action, entry.channel, entry.api_key_id, entry.target_id) == (
            A.API_KEY_REVOKED,
            "api",
            world["owner_key"].public_id,
            victim.public_id,
        )

    def test_session_write_over_http(self, api, world, entries):
        api.force_login(world["owner"])
        start = entries.all()[-1].pk
        r = api.post(
            f"/api/v1/keys/?organizationId={world['org1'].public_id}",
            {"name": "from browser"},
            format="json",
            HTTP_USER_AGENT="Firefox/140",
        )
        assert r.status_code == 201
        (entry,) = [e for e in entries.all() if e.pk > start]
        assert (entry.action, entry.channel, entry.api_key_id) == (A.API_KEY_CREATED, "api", "")
        assert (entry.actor_user_id, entry.actor_email, entry.user_agent) == (
            world["owner"].pk,
            world["owner"].email,
            "Firefox/140",
        )

    def test_management_commands_write_with_channel_system(self, db, entries):
        out = StringIO()
        call_command("create_tenant", "--name", "Cmd Co", "--owner-email", "boss@cmd.example", "--json", stdout=out)
        tenant = Tenant.objects.get(name="Cmd Co")
        call_command("create_org", "--tenant", tenant.public_id, "--name", "Cmd Org", "--json", stdout=out)
        written = [e for e in entries.all() if e.tenant_id == tenant.pk]
        assert {e.action for e in written} >= {A.TENANT_CREATED, A.ORG_CREATED}
        assert {e.channel for e in written} == {"system"}
        assert {e.api_key_id for e in written} == {""}


class TestSameTransaction:
    def test_failing_write_leaves_no_entry(self, world, entries):
        user = UserFactory()
        # The change and its entry are written, then the service fails before commit.
        with (
            mock.patch("apikeys.keycheck.forget", side_effect=RuntimeError("cache down")),
            pytest.raises(RuntimeError),
        ):
            org_services.org_member_set(organization=world["org1"], user=user, role="member", actor=world["owner"])
        assert entries.all() == []
        assert not OrgMembership.objects.filter(user=user).exists()

    def test_failing_entry_leaves_no_write(self, world, entries):
        before = ApiKey.objects.count()
        with mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down")), pytest.raises(RuntimeError):
            key_services.apikey_create(
                creator=world["owner"], tenant=world["tenant"], organization=world["org1"], name="never"
            )
        assert ApiKey.objects.count() == before
        assert entries.all() == []

    def test_entry_refused_at_insert_leaves_no_write(self, world, entries):
        # A database-level failure of the entry itself (here: a forced duplicate seq).
        with (
            mock.patch.object(AuditEvent, "save", side_effect=RuntimeError("insert failed")),
            pytest.raises(RuntimeError),
        ):
            org_services.org_rename(organization=world["org1"], name="Never renamed", actor=world["owner"])
        world["org1"].refresh_from_db()
        assert world["org1"].name == "Acme Org 1"

    def test_failing_entry_over_http_is_a_500_and_no_key(self, api, world, entries):
        before = ApiKey.objects.count()
        with mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down")):
            r = api.post("/api/v1/keys/", {"name": "never"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (500, "INTERNAL_ERROR")
        assert ApiKey.objects.count() == before
