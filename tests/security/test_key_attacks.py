"""Attacker stories against the key API (issue: close every escalation path).

Each test is the request sequence an attacker would send; the expectation comes from
SPEC §2a ("who may act on which key"), and every refusal is checked to have changed
nothing: no secret returned, the target key unchanged, nothing created.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import OrgMembership
from tests.factories import UserFactory, make_key

KEYS = "/api/v1/keys/"
SECRET = re.compile(r"\b(?:tater_|ak_|ck_)[0-9a-f]{32}\b")

pytestmark = pytest.mark.django_db


def snapshot(key: ApiKey) -> dict[str, Any]:
    key.refresh_from_db()
    return {
        f: getattr(key, f)
        for f in (
            "digest",
            "previous_digest",
            "scopes",
            "allowed_ips",
            "expires_at",
            "rate_limit",
            "is_active",
            "revoked_at",
            "organization_id",
            "name",
        )
    }


def session(api: Any, user: Any, org: Any) -> dict[str, str]:
    """Sign ``user`` in on ``api``; the org hint for their requests."""
    api.force_authenticate(user)
    return {"HTTP_X_WORKSPACE_ID": org.public_id}


def refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    assert not SECRET.search(response.content.decode()), "a refusal carried a key secret"


class TestRotationHandsOverSecrets:
    def test_org_admin_cannot_rotate_the_owners_key(self, api, world):
        before = snapshot(world["owner_key"])
        hints = session(api, world["admin"], world["org1"])
        r = api.post(f"{KEYS}{world['owner_key'].public_id}/rotate/", {}, format="json", **hints)
        refused(r, 403, "PERMISSION_DENIED")
        assert snapshot(world["owner_key"]) == before
        assert not AuditEvent.objects.filter(action="api_key.rotated").exists()

    def test_org_admin_may_still_see_and_revoke_it(self, api, world):
        hints = session(api, world["admin"], world["org1"])
        r = api.get(f"{KEYS}{world['owner_key'].public_id}/", **hints)
        assert r.status_code == 200 and not SECRET.search(r.content.decode())
        assert api.post(f"{KEYS}{world['owner_key'].public_id}/revoke/", **hints).json()["status"] == "revoked"

    def test_narrow_key_cannot_rotate_a_full_access_key(self, api, world):
        narrow, narrow_raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["keys:write"]
        )
        before = snapshot(world["owner_key"])
        r = api.post(f"{KEYS}{world['owner_key'].public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=narrow_raw)
        refused(r, 404, "NOT_FOUND")
        assert snapshot(world["owner_key"]) == before

    def test_org_bound_key_cannot_rotate_the_unbound_key(self, api, world):
        unbound, _ = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
        narrow, narrow_raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["keys:write"]
        )
        for raw in (narrow_raw, world["owner_raw"]):
            before = snapshot(unbound)
            r = api.post(f"{KEYS}{unbound.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw)
            refused(r, 404, "NOT_FOUND")
            assert snapshot(unbound) == before

    def test_owner_rotates_own_key_and_alone_gets_the_secret(self, api, world):
        r = api.post(
            f"{KEYS}{world['owner_key'].public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=world["owner_raw"]
        )
        assert r.status_code == 200 and SECRET.fullmatch(r.json()["key"])
        assert r["Cache-Control"] and "no-store" in r["Cache-Control"]


class TestOrgKeysStayInTheirOrg:
    def test_org_bound_key_cannot_create_an_unbound_key(self, api, world):
        count = ApiKey.objects.count()
        r = api.post(KEYS, {"name": "escape", "unbound": True}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        refused(r, 403, "PERMISSION_DENIED")
        assert ApiKey.objects.count() == count

    def test_org_bound_key_cannot_patch_the_unbound_key(self, api, world):
        unbound, _ = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
        before = snapshot(unbound)
        r = api.patch(
            f"{KEYS}{unbound.public_id}/", {"name": "mine now"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
        )
        refused(r, 404, "NOT_FOUND")
        assert snapshot(unbound) == before

    def test_org_bound_key_never_lists_unbound_or_sibling_org_keys(self, api, world):
        unbound, _ = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
        sibling, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org2"], name="sibling")
        ids = {k["id"] for k in api.get(KEYS, HTTP_X_API_KEY=world["owner_raw"]).json()["keys"]}
        assert unbound.public_id not in ids and sibling.public_id not in ids
        assert api.get(f"{KEYS}{sibling.public_id}/", HTTP_X_API_KEY=world["owner_raw"]).status_code == 404

    def test_admins_key_does_not_reach_other_peoples_keys(self, api, world):
        admin_key, admin_raw = make_key(user=world["admin"], tenant=world["tenant"], org=world["org1"])
        before = snapshot(world["member_key"])
        r = api.post(f"{KEYS}{world['member_key'].public_id}/revoke/", HTTP_X_API_KEY=admin_raw)
        refused(r, 404, "NOT_FOUND")
        assert snapshot(world["member_key"]) == before

    def test_unbound_key_created_from_the_owners_session(self, api, world):
        hints = session(api, world["owner"], world["org1"])
        r = api.post(KEYS, {"name": "cron", "unbound": True}, format="json", **hints)
        assert r.status_code == 201 and r.json()["binding"] == "unbound"
        assert "no-store" in r["Cache-Control"]


WIDENINGS = [
    pytest.param({"allowed_ips": []}, id="drop-allowlist"),
    pytest.param({"allowed_ips": ["0.0.0.0/0"]}, id="enlarge-allowlist"),
    pytest.param({"expires_at": None}, id="remove-expiry"),
    pytest.param({"expires_at": "LATER"}, id="extend-expiry"),
    pytest.param({"rate_limit": ""}, id="lift-rate-limit"),
    pytest.param({"rate_limit": "1000/min"}, id="loosen-rate-limit"),
    # A lower average, a wider window: 299 could pass in one minute (found by review).
    pytest.param({"rate_limit": "299/hour"}, id="minute-cap-traded-for-an-hour"),
    # Fixed windows longer than a minute meet twice at a boundary: 10 in one minute.
    pytest.param({"rate_limit": "5/hour"}, id="same-count-fixed-hour"),
    pytest.param({"scopes": ["*"]}, id="more-scopes"),
]


def _restricted_key(world: dict[str, Any]) -> tuple[ApiKey, str]:
    return make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="restricted",
        scopes=["keys:write", "scans:read"],
        allowed_ips=["127.0.0.0/8"],
        expires_at=timezone.now() + timedelta(days=30),
        rate_limit="5/min",
    )


def _body(change: dict[str, Any]) -> dict[str, Any]:
    if change.get("expires_at") == "LATER":
        return {"expires_at": (timezone.now() + timedelta(days=300)).isoformat()}
    return change


class TestKeysOnlyNarrow:
    @pytest.mark.parametrize("change", WIDENINGS)
    def test_a_key_cannot_widen_itself(self, api, world, change):
        key, raw = _restricted_key(world)
        before = snapshot(key)
        r = api.patch(
            f"{KEYS}{key.public_id}/", _body(change), format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR="127.0.0.1"
        )
        refused(r, 403, "PERMISSION_DENIED")
        assert snapshot(key) == before

    @pytest.mark.parametrize("change", WIDENINGS)
    def test_an_org_admin_cannot_widen_the_owners_key(self, api, world, change):
        key, _ = _restricted_key(world)
        before = snapshot(key)
        hints = session(api, world["admin"], world["org1"])
        r = api.patch(f"{KEYS}{key.public_id}/", _body(change), format="json", **hints)
        refused(r, 403, "PERMISSION_DENIED")
        assert snapshot(key) == before

    @pytest.mark.parametrize("change", WIDENINGS)
    def test_the_owners_session_may_widen(self, api, world, change):
        key, _ = _restricted_key(world)
        hints = session(api, world["owner"], world["org1"])
        r = api.patch(f"{KEYS}{key.public_id}/", _body(change), format="json", **hints)
        assert r.status_code == 200, r.content

    @pytest.mark.parametrize(
        "change",
        [
            {"allowed_ips": ["127.0.0.1/32"]},
            {"rate_limit": "2/min"},
            {"rate_limit": "2/30s"},  # at most 4 in any minute
            {"rate_limit": "2/hour"},  # at most 4 in any minute, even across the hour's edge
            {"scopes": ["keys:read"]},
            {"expires_at": "SOONER"},
            {"name": "renamed"},
        ],
    )
    def test_narrowing_through_the_key_itself_works(self, api, world, change):
        key, raw = _restricted_key(world)
        if change.get("expires_at") == "SOONER":
            change = {"expires_at": (timezone.now() + timedelta(days=1)).isoformat()}
        r = api.patch(f"{KEYS}{key.public_id}/", change, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR="127.0.0.1")
        assert r.status_code == 200, r.content

    def test_an_org_admin_may_narrow_the_owners_key(self, api, world):
        key, _ = _restricted_key(world)
        hints = session(api, world["admin"], world["org1"])
        r = api.patch(f"{KEYS}{key.public_id}/", {"allowed_ips": ["127.0.0.1/32"]}, format="json", **hints)
        assert r.status_code == 200 and r.json()["allowed_ips"] == ["127.0.0.1/32"]

    def test_read_only_fields_are_refused_not_ignored(self, api, world):
        before = snapshot(world["owner_key"])
        for body in ({"is_active": False}, {"type": "agent"}, {"owner": "x@example.com"}, {"unbound": True}):
            r = api.patch(
                f"{KEYS}{world['owner_key'].public_id}/", body, format="json", HTTP_X_API_KEY=world["owner_raw"]
            )
            refused(r, 400, "VALIDATION_ERROR")
            assert list(r.json()["details"]["fields"]) == list(body)
        assert snapshot(world["owner_key"]) == before

    def test_unknown_create_fields_are_refused(self, api, world):
        count = ApiKey.objects.count()
        r = api.post(KEYS, {"name": "x", "owner_id": 1}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        refused(r, 400, "VALIDATION_ERROR")
        assert ApiKey.objects.count() == count


class TestDefaults:
    def test_member_create_without_scopes_gets_the_members_permissions(self, api, world):
        r = api.post(KEYS, {"name": "mine"}, format="json", HTTP_X_API_KEY=world["member_raw"])
        assert r.status_code == 201, r.content
        # member_raw carries scans:write + keys:write: the new key gets exactly those.
        assert set(r.json()["scopes"]) == {"keys:write", "scans:write"}

    def test_member_session_create_without_scopes(self, api, world):
        hints = session(api, world["member"], world["org1"])
        r = api.post(KEYS, {"name": "mine"}, format="json", **hints)
        assert r.status_code == 201, r.content
        api.force_authenticate(None)
        validate = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=r.json()["key"]).json()
        assert "audit:write" not in validate["permissions"] and "keys:write" in validate["permissions"]


class TestPublicKeysReadBusinessDataOnly:
    @pytest.mark.parametrize(
        "path",
        [KEYS, "/api/v1/audit-log/", "ORG_MEMBERS", "/api/v1/me/"],
    )
    def test_public_key_reads_no_keys_members_or_audit(self, api, world, path):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public", scopes=["*:read"]
        )
        if path == "ORG_MEMBERS":
            path = f"/api/v1/organizations/{world['org1'].public_id}/members/"
        r = api.get(path, HTTP_X_API_KEY=raw)
        refused(r, 403, "KEY_TYPE_NOT_ALLOWED")

    def test_public_key_reads_scans_and_its_permissions_say_so(self, api, world):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public", scopes=["*:read"]
        )
        assert api.get("/api/v1/scans/", HTTP_X_API_KEY=raw).status_code == 200
        permissions = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).json()["permissions"]
        assert set(permissions) <= {"scans:read", "organizations:read"}


class TestPreAccountHijack:
    def test_an_unverified_signup_is_invited_not_added(self, api, client, world):
        attacker = UserFactory(email="newhire@contoso.test", verified=False)
        hints = session(api, world["admin"], world["org1"])
        r = api.post(
            f"/api/v1/organizations/{world['org1'].public_id}/members/",
            {"email": "newhire@contoso.test", "role": "member"},
            format="json",
            **hints,
        )
        assert r.status_code in (200, 201) and r.json()["result"] == "invited"
        assert not OrgMembership.objects.filter(user=attacker).exists()

    def test_an_unverified_holder_cannot_accept_the_invitation(
        self, client, world, mailoutbox, django_capture_on_commit_callbacks
    ):
        from orgs import members as org_members

        attacker = UserFactory(email="newhire@contoso.test", verified=False)
        with django_capture_on_commit_callbacks(execute=True):
            org_members.member_add_by_email(
                organization=world["org1"],
                email="newhire@contoso.test",
                role="member",
                actor=world["admin"],
                accept_url=lambda token: f"/invitations/{token}/",
            )
        link = next(line for line in mailoutbox[0].body.splitlines() if "/invitations/" in line).strip()
        client.force_login(attacker)
        assert client.post(link).status_code == 403
        assert not OrgMembership.objects.filter(user=attacker).exists()

    def test_the_spelling_of_the_address_does_not_matter(self, api, world):
        UserFactory(email="newhire@contoso.test", verified=False)
        hints = session(api, world["admin"], world["org1"])
        r = api.post(
            f"/api/v1/organizations/{world['org1'].public_id}/members/",
            {"email": "NewHire@CONTOSO.test", "role": "member"},
            format="json",
            **hints,
        )
        assert r.json()["result"] == "invited"


@pytest.mark.parametrize("new_refill", ["monthly", ""])
def test_a_refill_change_does_not_refill_an_exhausted_key(api, world, new_refill, django_capture_on_commit_callbacks):
    """Found by review: use counters are named by refill period, so changing the refill (a
    narrowing: fewer uses per month) started an exhausted key afresh with 3 new uses."""
    owner, tenant, org = world["owner"], world["tenant"], world["org1"]
    target, target_raw = make_key(
        user=owner, tenant=tenant, org=org, scopes=["scans:read"], usage_limit=3, usage_refill="daily"
    )
    _, manager_raw = make_key(user=owner, tenant=tenant, org=org, scopes=["keys:write", "scans:read"])
    validate = "/api/v1/auth/validate"
    assert [api.get(validate, HTTP_X_API_KEY=target_raw).status_code for _ in range(4)] == [200, 200, 200, 429]
    with django_capture_on_commit_callbacks(execute=True):  # as a request commits
        r = api.patch(
            f"{KEYS}{target.public_id}/", {"usage_refill": new_refill}, format="json", HTTP_X_API_KEY=manager_raw
        )
    assert r.status_code == 200, r.content
    answers = [api.get(validate, HTTP_X_API_KEY=target_raw) for _ in range(2)]
    assert [a.status_code for a in answers] == [429, 429]
    assert answers[0].json()["error"] == "USAGE_EXHAUSTED"


class TestAKeyMintsNoLooserKey:
    """Found by review: an expiring, address-bound, rate-limited key created keys with none of
    those restrictions (lasting, unrestricted access from a key meant to be narrow)."""

    @pytest.mark.parametrize(
        "looser",
        [
            {"allowed_ips": ["0.0.0.0/0"]},
            {"expires_at": "LATER"},
            {"rate_limit": "1000/min"},
        ],
    )
    def test_a_restricted_key_cannot_create_a_looser_one(self, api, world, looser):
        _, raw = _restricted_key(world)
        count = ApiKey.objects.count()
        body = {"name": "looser", "scopes": ["scans:read"], **_body(looser)}
        r = api.post(KEYS, body, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR="127.0.0.1")
        refused(r, 403, "PERMISSION_DENIED")
        assert ApiKey.objects.count() == count

    def test_what_the_call_leaves_out_is_inherited(self, api, world):
        parent, raw = _restricted_key(world)
        body = {"name": "child", "scopes": ["scans:read"]}
        r = api.post(KEYS, body, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR="127.0.0.1")
        assert r.status_code == 201, r.content
        child = ApiKey.objects.get(public_id=r.json()["id"])
        assert child.allowed_ips == parent.allowed_ips and child.rate_limit == "5/min"
        assert child.expires_at == parent.expires_at

    def test_narrower_is_fine_and_a_session_is_not_bound_by_its_keys(self, api, world):
        parent, raw = _restricted_key(world)
        sooner = (timezone.now() + timedelta(days=1)).isoformat()
        body = {"name": "narrower", "scopes": ["scans:read"], "allowed_ips": ["127.0.0.1/32"], "expires_at": sooner}
        r = api.post(KEYS, body, format="json", HTTP_X_API_KEY=raw, REMOTE_ADDR="127.0.0.1")
        assert r.status_code == 201 and r.json()["allowed_ips"] == ["127.0.0.1/32"]
        hints = session(api, world["owner"], world["org1"])
        assert api.post(KEYS, {"name": "free", "scopes": ["scans:read"]}, format="json", **hints).status_code == 201
