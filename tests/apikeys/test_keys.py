"""API key lifecycle: format, storage, escalation, rotation, usage tracking, query budget."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey
from orgs import services as org_services
from tater.exceptions import InvalidInput, NotPermitted
from tests.factories import make_key

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"
KEY_RE = re.compile(r"(tater_|ak_|ck_)[0-9a-f]{32}")


@pytest.mark.django_db
class TestFormatAndStorage:
    @pytest.mark.parametrize("key_type,prefix", [("standard", "tater_"), ("agent", "ak_"), ("public", "ck_")])
    def test_format(self, world, key_type, prefix):
        scopes = {"public": ["*:read"], "agent": ["scans:write"]}.get(key_type, ["*"])  # what each type can use
        key, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type=key_type, scopes=scopes
        )
        assert re.fullmatch(re.escape(prefix) + r"[0-9a-f]{32}", raw)
        assert key.display_prefix == raw[: len(prefix) + 4]
        assert key.public_id.startswith("key-")

    def test_stored_row_holds_no_secret(self, world):
        out = io.StringIO()
        call_command("dumpdata", stdout=out)
        dump = out.getvalue()
        for raw in (world["owner_raw"], world["member_raw"], world["other_raw"]):
            assert raw not in dump
            assert raw[len("tater_") :] not in dump
        assert not KEY_RE.search(dump)

    def test_create_via_api_returns_key_once(self, api, world):
        r = api.post(KEYS, {"name": "CI", "scopes": ["scans:read"]}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 201
        data = r.json()
        assert KEY_RE.fullmatch(data["key"])
        assert data["headers"] == {"X-API-Key": data["key"]}
        assert "only time" in data["notice"]
        detail = api.get(f"{KEYS}{data['id']}/", HTTP_X_API_KEY=world["owner_raw"]).json()
        assert "key" not in detail and data["key"] not in str(detail)
        assert api.get(VALIDATE, HTTP_X_API_KEY=data["key"]).json()["permissions"] == ["scans:read"]


@pytest.mark.django_db
class TestEscalation:
    def test_member_cannot_grant_beyond_role(self, world):
        with pytest.raises(NotPermitted):
            make_key(user=world["member"], tenant=world["tenant"], org=world["org1"], scopes=["members:write"])

    def test_viewer_cannot_create_keys(self, world):
        with pytest.raises(NotPermitted):
            make_key(user=world["viewer"], tenant=world["tenant"], org=world["org1"], scopes=["*:read"])

    def test_only_owner_creates_unbound(self, world):
        with pytest.raises(NotPermitted):
            make_key(user=world["admin"], tenant=world["tenant"], org=None)

    def test_agent_and_public_must_be_bound_and_public_read_only(self, world):
        with pytest.raises(InvalidInput):
            make_key(user=world["owner"], tenant=world["tenant"], org=None, key_type="agent")
        with pytest.raises(InvalidInput):
            make_key(
                user=world["owner"],
                tenant=world["tenant"],
                org=world["org1"],
                key_type="public",
                scopes=["scans:write"],
            )

    def test_key_cannot_mint_wider_key(self, api, world):
        _, limited = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["keys:write"])
        r = api.post(KEYS, {"name": "wider", "scopes": ["*"]}, format="json", HTTP_X_API_KEY=limited)
        assert r.status_code == 403
        assert r.json()["error"] == "PERMISSION_DENIED"
        assert "scans:write" in r.json()["details"]["required_permissions"]
        r = api.post(KEYS, {"name": "same", "scopes": ["keys:read"]}, format="json", HTTP_X_API_KEY=limited)
        assert r.status_code == 201

    def test_member_session_cannot_escalate(self, api, world):
        api.force_login(world["member"])
        r = api.post(KEYS, {"name": "x", "scopes": ["*"]}, format="json")
        assert r.status_code == 403
        assert ApiKey.objects.filter(name="x").count() == 0

    def test_patch_only_narrows(self, api, world):
        key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["scans:read"])
        r = api.patch(f"{KEYS}{key.public_id}/", {"scopes": ["*"]}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 403
        r = api.patch(f"{KEYS}{key.public_id}/", {"name": "renamed"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200 and r.json()["name"] == "renamed"

    def test_command_refuses_escalation(self, world):
        with pytest.raises(Exception) as exc:
            call_command(
                "create_api_key",
                "--user",
                world["member"].email,
                "--tenant",
                world["tenant"].public_id,
                "--org",
                world["org1"].public_id,
                "--scopes",
                "*",
            )
        assert "more permissions" in str(exc.value)

    def test_tenant_policy_owners_only_and_max_lifetime(self, world):
        org_services.tenant_update(
            tenant=world["tenant"], actor=world["owner"], key_creation_policy="owners", max_key_lifetime_days=30
        )
        world["tenant"].refresh_from_db()
        with pytest.raises(NotPermitted):
            make_key(
                user=world["admin"],
                tenant=world["tenant"],
                org=world["org1"],
                expires_at=timezone.now() + timedelta(days=1),
            )
        # Left out: the longest lifetime the tenant allows (s39: every channel, not a 400).
        capped, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"])
        assert capped.expires_at is not None and capped.expires_at <= timezone.now() + timedelta(days=30)
        with pytest.raises(InvalidInput):
            make_key(
                user=world["owner"],
                tenant=world["tenant"],
                org=world["org1"],
                expires_at=timezone.now() + timedelta(days=60),
            )
        make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            expires_at=timezone.now() + timedelta(days=29),
        )


@pytest.mark.django_db
class TestLifecycle:
    def test_rotation_grace_then_revoked(self, api, world):
        key, old = world["owner_key"], world["owner_raw"]
        r = api.post(
            f"{KEYS}{key.public_id}/rotate/", {"grace_period_seconds": 3600}, format="json", HTTP_X_API_KEY=old
        )
        assert r.status_code == 200
        new = r.json()["key"]
        assert new != old and KEY_RE.fullmatch(new)
        assert api.get(VALIDATE, HTTP_X_API_KEY=old).status_code == 200
        assert api.get(VALIDATE, HTTP_X_API_KEY=new).json()["id"] == key.public_id
        key.refresh_from_db()
        key.previous_expires_at = timezone.now() - timedelta(seconds=1)  # the grace period ends
        key.save(update_fields=["previous_expires_at"])
        r = api.get(VALIDATE, HTTP_X_API_KEY=old)
        assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")
        assert api.get(VALIDATE, HTTP_X_API_KEY=new).status_code == 200

    def test_rotation_zero_grace(self, api, world):
        services.apikey_rotate(api_key=world["owner_key"], actor=world["owner"], grace_period_seconds=0)
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert r.json()["error"] == "KEY_REVOKED"

    @pytest.mark.parametrize("grace", [-1, 604801, "soon"])
    def test_rotation_grace_bounds(self, api, world, grace):
        r = api.post(
            f"{KEYS}{world['owner_key'].public_id}/rotate/",
            {"grace_period_seconds": grace},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR"
        assert "grace_period_seconds" in r.json()["details"]["fields"]

    def test_revoke_deactivate_activate_via_api(self, api, world):
        key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"])
        base = f"{KEYS}{key.public_id}/"
        assert api.post(base + "deactivate/", HTTP_X_API_KEY=world["owner_raw"]).json()["status"] == "inactive"
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).json()["error"] == "KEY_INACTIVE"
        # Reactivation loosens: an API key cannot do it (SPEC §2a), the owner's session can.
        refused = api.post(base + "activate/", HTTP_X_API_KEY=world["owner_raw"])
        assert refused.status_code == 403 and refused.json()["error"] == "PERMISSION_DENIED"
        api.force_authenticate(world["owner"])
        org_hint = f"?organizationId={world['org1'].public_id}"
        assert api.post(base + "activate/" + org_hint).json()["status"] == "active"
        api.force_authenticate(None)
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
        assert api.post(base + "revoke/", HTTP_X_API_KEY=world["owner_raw"]).json()["status"] == "revoked"
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).json()["error"] == "KEY_REVOKED"
        api.force_authenticate(world["owner"])
        r = api.post(base + "activate/" + org_hint)
        assert r.status_code == 400

    def test_list_filters_and_paging(self, api, world):
        k1, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="a")
        services.apikey_revoke(api_key=k1, actor=world["owner"])
        r = api.get(KEYS, {"status": "revoked"}, HTTP_X_API_KEY=world["owner_raw"]).json()
        assert [k["id"] for k in r["keys"]] == [k1.public_id]
        k2, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="b")
        # Through a key, only its owner's keys of its org (not the member's): owner key and k2.
        r = api.get(KEYS, {"status": "active", "limit": 1, "offset": 0}, HTTP_X_API_KEY=world["owner_raw"]).json()
        assert r["total"] == 2 and len(r["keys"]) == 1
        r = api.get(KEYS, {"status": "bogus"}, HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 400 and "status" in r.json()["details"]["fields"]

    def test_member_sees_only_own_keys(self, api, world):
        r = api.get(KEYS, HTTP_X_API_KEY=world["member_raw"]).json()
        assert {k["id"] for k in r["keys"]} == {world["member_key"].public_id}
        r = api.get(f"{KEYS}{world['owner_key'].public_id}/", HTTP_X_API_KEY=world["member_raw"])
        assert r.status_code == 404

    def test_other_tenant_key_is_404(self, api, world):
        r = api.get(f"{KEYS}{world['other_key'].public_id}/", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"
        r = api.post(f"{KEYS}{world['other_key'].public_id}/revoke/", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 404
        world["other_key"].refresh_from_db()
        assert world["other_key"].revoked_at is None


@pytest.mark.django_db
class TestHotPath:
    def test_last_used_written_at_most_once_per_minute(self, api, world):
        with CaptureQueriesContext(connection) as ctx:
            for _ in range(5):
                assert (
                    api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"], REMOTE_ADDR="203.0.113.9").status_code == 200
                )
        writes = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
        assert len(writes) == 1
        key = ApiKey.objects.get(pk=world["owner_key"].pk)
        assert key.last_used_ip == "203.0.113.9"
        assert timezone.now() - key.last_used_at < timedelta(seconds=30)

    def test_query_budget_cold_and_warm(self, api, world, django_assert_max_num_queries, django_assert_num_queries):
        api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"])  # the one last-used write of this minute
        from apikeys import keycheck

        keycheck.reset()  # this process has not seen the key: a cold lookup
        with django_assert_max_num_queries(1):
            assert api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"]).status_code == 200
        with django_assert_num_queries(0):
            assert api.get(VALIDATE, HTTP_X_API_KEY=world["member_raw"]).status_code == 200

    def test_revocation_effective_on_next_request(self, api, world):
        assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200  # warms the cache
        services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
        assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).json()["error"] == "KEY_REVOKED"


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["type", "status", "binding", "limit"])
def test_blank_list_filter_is_a_validation_error(api, world, param):
    r = api.get(KEYS + f"?{param}=", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400
    assert r.json()["error"] == "VALIDATION_ERROR"
    assert param in r.json()["details"]["fields"]
