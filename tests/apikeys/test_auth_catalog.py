"""Every row of the SPEC §3 authentication table, through the real HTTP stack."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from apikeys import services
from orgs import services as org_services
from tests.factories import make_key, make_tenant

VALIDATE = "/api/v1/auth/validate"
KEYS = "/api/v1/keys/"


def body(resp):
    return resp.json()


@pytest.mark.django_db
class TestCatalog:
    def test_no_key_no_session(self, api):
        r = api.get(VALIDATE)
        assert r.status_code == 401
        assert body(r)["error"] == "UNAUTHORIZED"
        assert body(r)["message"] == "Missing API key"
        assert r["X-Request-ID"] == body(r)["request_id"]

    @pytest.mark.parametrize(
        "value", ["Bearer tater_3fd88c926edd3a6f66a925de7df4cfe4", "Basic dXNlcjpwYXNz", "Token abc"]
    )
    def test_authorization_header_rejected(self, api, world, value):
        r = api.get(VALIDATE, HTTP_AUTHORIZATION=value)
        assert r.status_code == 401
        assert body(r) | {"request_id": None} == {
            "error": "UNAUTHORIZED",
            "message": "Invalid authorization header format",
            "request_id": None,
        }

    def test_bearer_admitted_by_setting(self, api, world):
        with override_settings(TATER_ALLOW_BEARER_KEYS=True):
            r = api.get(VALIDATE, HTTP_AUTHORIZATION=f"Bearer {world['owner_raw']}")
        assert r.status_code == 200
        assert body(r)["id"] == world["owner_key"].public_id

    @pytest.mark.parametrize("key", ["tater_zz", "tater_" + "0" * 32, "nope", "ak_" + "a" * 33, ""])
    def test_malformed_or_unknown(self, api, world, key):
        r = api.get(VALIDATE, HTTP_X_API_KEY=key)
        assert r.status_code == 401
        assert (body(r)["error"], body(r)["message"]) == ("UNAUTHORIZED", "Invalid token")

    def test_valid_key(self, api, world):
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200
        data = body(r)
        assert data["valid"] is True
        assert data["organization_id"] == world["org1"].public_id
        assert data["tenant_id"] == world["tenant"].public_id
        assert data["prefix"] == world["owner_raw"][:10]
        assert "keys:write" in data["permissions"]

    def test_agent_alias_header(self, api, world):
        r = api.get(VALIDATE, HTTP_X_AGENT_API_KEY=world["owner_raw"])
        assert r.status_code == 200

    def test_revoked(self, api, world):
        services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 401
        assert (body(r)["error"], body(r)["message"]) == ("KEY_REVOKED", "API key has been revoked")

    def test_expired(self, api, world):
        key, raw = make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            expires_at=timezone.now() + timedelta(seconds=1),
        )
        from apikeys.models import ApiKey

        past = timezone.now() - timedelta(seconds=5)
        ApiKey.objects.filter(pk=key.pk).update(expires_at=past)
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert r.status_code == 401
        assert (body(r)["error"], body(r)["message"]) == ("KEY_EXPIRED", "API key has expired")
        assert body(r)["details"]["expired_at"] == past.isoformat().replace("+00:00", "Z")

    def test_deactivated(self, api, world):
        services.apikey_set_active(api_key=world["owner_key"], actor=world["owner"], active=False)
        r = api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 401
        assert (body(r)["error"], body(r)["message"]) == ("KEY_INACTIVE", "API key is deactivated")
        services.apikey_set_active(api_key=world["owner_key"], actor=world["owner"], active=True)
        assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200

    def test_unbound_key_on_write_endpoint(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="cron")
        r = api.post(KEYS, {"name": "x"}, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 401
        assert (body(r)["error"], body(r)["message"]) == (
            "UNAUTHORIZED",
            "Unbound API key may not scope to a specific org",
        )

    def test_unbound_key_ambiguous_org(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="cron")
        r = api.get(KEYS, HTTP_X_API_KEY=raw)
        assert r.status_code == 400
        assert body(r)["error"] == "AMBIGUOUS_ORG"
        assert "organizationId" in body(r)["message"]
        r = api.get(KEYS, {"organizationId": world["org2"].public_id}, HTTP_X_API_KEY=raw)
        assert r.status_code == 200

    def test_unbound_key_single_org_tenant_needs_no_hint(self, api, world):
        _, raw = make_key(user=world["other_owner"], tenant=world["other_tenant"], org=None, name="cron")
        assert api.get(KEYS, HTTP_X_API_KEY=raw).status_code == 200

    def test_org_hint_unreachable(self, api, world):
        for params, extra in [
            ({"organizationId": world["org2"].public_id}, {}),
            ({}, {"HTTP_X_WORKSPACE_ID": world["other_org"].public_id}),
            ({"tenantId": world["other_tenant"].public_id}, {}),
        ]:
            r = api.get(KEYS, params, HTTP_X_API_KEY=world["owner_raw"], **extra)
            assert r.status_code == 403, params
            assert body(r)["error"] == "WORKSPACE_ACCESS_DENIED"
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="cron")
        r = api.get(KEYS, {"organizationId": world["other_org"].public_id}, HTTP_X_API_KEY=raw)
        assert (r.status_code, body(r)["error"]) == (403, "WORKSPACE_ACCESS_DENIED")

    @pytest.mark.parametrize(
        "allowlist,remote,ok",
        [
            (["10.0.0.0/8"], "10.1.2.3", True),
            (["10.0.0.0/8"], "192.168.1.1", False),
            (["2001:db8::/32"], "2001:db8::1", True),
            (["2001:db8::/32"], "2001:db9::1", False),
            (["192.0.2.7"], "::ffff:192.0.2.7", True),
        ],
    )
    def test_ip_allowlist(self, api, world, allowlist, remote, ok):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], allowed_ips=allowlist)
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR=remote)
        if ok:
            assert r.status_code == 200
        else:
            assert (r.status_code, body(r)["error"]) == (403, "IP_NOT_ALLOWED")

    def test_a_caller_outside_the_allowlist_neither_spends_nor_sees_the_keys_quota(self, api, world):
        """Not the key's holder: counting their requests would let anyone exhaust the key's
        quota from anywhere, and the headers would tell them what it has used (README)."""
        _, raw = make_key(
            user=world["owner"],
            tenant=world["tenant"],
            org=world["org1"],
            allowed_ips=["10.0.0.0/8"],
            rate_limit="3/min",
        )
        for _ in range(5):
            r = api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR="192.168.1.1")
            assert (r.status_code, body(r)["error"]) == (403, "IP_NOT_ALLOWED")
            # The address's failed-authentication budget, never the key's quota (SPEC §6).
            assert r["X-RateLimit-Limit"] == "19"
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw, REMOTE_ADDR="10.1.2.3")
        assert (r.status_code, r["X-RateLimit-Remaining"]) == (200, "2")

    def test_missing_scope(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["*:read"])
        r = api.post(KEYS, {"name": "x"}, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 403
        assert body(r)["error"] == "PERMISSION_DENIED"
        assert body(r)["details"]["required_permissions"] == ["keys:write"]
        assert "keys:read" in body(r)["details"]["current_permissions"]
        assert "keys:write" not in body(r)["details"]["current_permissions"]

    def test_key_type_not_allowed(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="agent")
        r = api.get(KEYS, HTTP_X_API_KEY=raw)
        assert (r.status_code, body(r)["error"]) == (403, "KEY_TYPE_NOT_ALLOWED")
        assert api.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200

    def test_validation_error_names_field(self, api, world):
        r = api.post(KEYS, {"name": "x", "scopes": ["bogus:thing"]}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 400
        assert body(r)["error"] == "VALIDATION_ERROR"
        assert body(r)["message"].startswith("scopes:")
        assert "scopes" in body(r)["details"]["fields"]

    def test_not_found_and_method(self, api, world):
        r = api.get("/api/v1/nothing-here", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 404 and body(r)["error"] == "NOT_FOUND"
        r = api.delete(VALIDATE, HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 405 and body(r)["error"] == "METHOD_NOT_ALLOWED"

    def test_owner_removed_kills_key(self, api, world):
        member_raw = world["member_raw"]
        assert api.get(VALIDATE, HTTP_X_API_KEY=member_raw).status_code == 200
        org_services.org_member_set(organization=world["org1"], user=world["member"], role=None)
        r = api.get(VALIDATE, HTTP_X_API_KEY=member_raw)
        # Revoked, for good (docs/authorization.md, "Removal kills").
        assert (r.status_code, body(r)["message"]) == (401, "API key has been revoked")

    def test_owner_demotion_narrows_key(self, api, world):
        raw = world["member_raw"]
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert "scans:write" in body(r)["permissions"]
        org_services.org_member_set(organization=world["org1"], user=world["member"], role="viewer")
        r = api.get(VALIDATE, HTTP_X_API_KEY=raw)
        assert "scans:write" not in body(r)["permissions"]
        assert "scans:read" in body(r)["permissions"]


@pytest.mark.django_db
def test_single_org_tenant_helper():
    tenant, owner, orgs = make_tenant(orgs=1)
    assert orgs[0].tenant_id == tenant.pk
