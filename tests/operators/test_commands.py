"""Operator commands: --json output on the last line, clear errors with exit code 1."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import Organization, Tenant, TenantMembership
from tests.factories import make_key


def run(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db
class TestCommands:
    def test_create_tenant_org_key_revoke(self, api):
        t = run(
            "create_tenant",
            "--name",
            "Initech",
            "--owner-email",
            "Boss@Initech.test",
            "--password",
            "s3cret-pass-word",
            "--plan",
            "pro",
        )
        tenant = Tenant.objects.get(public_id=t["tenant_id"])
        assert tenant.plan == "pro"
        assert TenantMembership.objects.get(tenant=tenant).user.public_id == t["owner_id"]
        o = run("create_org", "--tenant", t["tenant_id"], "--name", "HQ")
        assert Organization.objects.get(public_id=o["organization_id"]).tenant == tenant
        k = run(
            "create_api_key",
            "--user",
            "boss@initech.test",
            "--tenant",
            t["tenant_id"],
            "--org",
            o["organization_id"],
            "--scopes",
            "scans:read,keys:write",
            "--expires-in",
            "12h",
            "--allow-ip",
            "10.0.0.0/8",
            "--rate-limit",
            "5/min",
        )
        assert set(k) == {"id", "key", "prefix", "type", "organization_id", "scopes", "expires_at"}
        assert k["key"].startswith("tater_") and k["organization_id"] == o["organization_id"]
        assert k["scopes"] == ["keys:write", "scans:read"]
        stored = ApiKey.objects.get(public_id=k["id"])
        assert stored.allowed_ips == ["10.0.0.0/8"] and stored.rate_limit == "5/min"
        assert timedelta(hours=11) < stored.expires_at - timezone.now() <= timedelta(hours=12)
        r = run("revoke_api_key", k["id"])
        assert r["id"] == k["id"] and r["revoked_at"]
        assert (
            api.get("/api/v1/auth/validate", HTTP_X_API_KEY=k["key"], REMOTE_ADDR="10.1.1.1").json()["error"]
            == "KEY_REVOKED"
        )
        system_events = AuditEvent.objects.filter(tenant=tenant, channel="system")
        assert {"tenant.created", "organization.created", "api_key.created", "api_key.revoked"} <= set(
            system_events.values_list("action", flat=True)
        )

    @pytest.mark.parametrize(
        "args,message",
        [
            (("create_org", "--tenant", "nope", "--name", "x"), "No tenant"),
            (("create_api_key", "--user", "ghost@x.test", "--tenant", "nope"), "No user"),
            (("revoke_api_key", "key-missing"), "No API key"),
        ],
    )
    def test_errors_exit_1(self, args, message):
        out = io.StringIO()
        with pytest.raises(CommandError) as exc:
            call_command(*args, "--json", stdout=out)
        assert exc.value.returncode == 1
        assert message in str(exc.value)
        assert json.loads(out.getvalue().strip().splitlines()[-1])["error"] == "VALIDATION_ERROR"

    def test_bad_duration_and_scopes(self, world):
        base = (
            "create_api_key",
            "--user",
            world["owner"].email,
            "--tenant",
            world["tenant"].public_id,
            "--org",
            world["org1"].public_id,
        )
        with pytest.raises(CommandError, match="Invalid duration"):
            call_command(*base, "--expires-in", "soon")
        with pytest.raises(CommandError, match="Unknown scope"):
            call_command(*base, "--scopes", "everything")

    def test_bootstrap_demo_idempotent(self, settings):
        with pytest.raises(CommandError, match="refusing with DEBUG off"):
            run("bootstrap_demo")
        settings.DEBUG = True
        first = run("bootstrap_demo")
        assert first["created"] is True
        assert len(first["keys"]) == 5
        assert Organization.objects.filter(tenant__public_id=first["tenant_id"]).count() == 2
        second = run("bootstrap_demo")
        assert second["created"] is False and second["keys"] == []
        assert Tenant.objects.filter(name="Demo MSP").count() == 1

    def test_expiry_notices_at_60_30_and_7_days_each_once(self, world):
        def key(name: str, days: float) -> Any:
            return make_key(
                user=world["owner"],
                tenant=world["tenant"],
                org=world["org1"],
                name=name,
                expires_at=timezone.now() + timedelta(days=days),
            )[0]

        soon, month, season = key("soon", 3), key("month", 25), key("season", 50)
        key("later", 90)
        sent = run("send_key_expiry_notices")["sent"]
        # Each key gets the notice of the nearest threshold it is within, once.
        assert sorted((s["id"], s["days"]) for s in sent) == sorted(
            [(soon.public_id, 7), (month.public_id, 30), (season.public_id, 60)]
        )
        assert len(mail.outbox) == 3 and all(m.to == [world["owner"].email] for m in mail.outbox)
        assert run("send_key_expiry_notices")["sent"] == [] and len(mail.outbox) == 3
        # Time passes: the 25-day key comes within 7 days and gets that notice, once.
        ApiKey.objects.filter(pk=month.pk).update(expires_at=timezone.now() + timedelta(days=6))
        assert run("send_key_expiry_notices")["sent"] == [{"id": month.public_id, "days": 7}]
        assert run("send_key_expiry_notices")["sent"] == []

    def test_a_new_expiry_gets_new_notices(self, world):
        api_key, _ = make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            name="renewed",
            expires_at=timezone.now() + timedelta(days=5),
        )
        assert len(run("send_key_expiry_notices")["sent"]) == 1
        key_services.apikey_update(
            api_key=api_key, actor=world["owner"], expires_at=timezone.now() + timedelta(days=20)
        )
        assert run("send_key_expiry_notices")["sent"] == [{"id": api_key.public_id, "days": 30}]
