"""SPEC §2a ("keys only narrow"; "through an API key, a key's restrictions can only tighten")
and the s46 decision in docs/authorization.md ("through an API key, nobody gets more than the
key has": it grants a role when *adding, inviting, promoting, resending* only if it holds the
scopes that gives). Demoting someone gives them nothing: an admin made a member, or a member a
viewer, ends with fewer permissions than before. An offboarding script's key that manages
members (``members:write``, as the SPEC's Limited preset allows) may remove an admin outright,
so it must be able to demote one too; until now it got 403 PERMISSION_DENIED "cannot grant the
role 'member'" because the member role has scopes the key lacks. Promotion stays capped."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from orgs.models import OrgMembership
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def _member_url(org: Any, user: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/{user.public_id}/"


def _members_only_key(world: dict[str, Any]) -> str:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], scopes=["members:write"])
    return raw


def _role(world: dict[str, Any], user: Any) -> str:
    return OrgMembership.objects.get(user=user, organization=world["org1"]).role


def test_a_members_key_demotes_an_admin_to_member_then_viewer(api: APIClient, world: dict[str, Any]) -> None:
    raw, org, admin = _members_only_key(world), world["org1"], world["admin"]
    r = api.patch(_member_url(org, admin), {"role": "member"}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert r.json()["role"] == "member" and _role(world, admin) == "member"
    r = api.patch(_member_url(org, admin), {"role": "viewer"}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert _role(world, admin) == "viewer"


def test_a_members_key_demotes_a_member_to_viewer(api: APIClient, world: dict[str, Any]) -> None:
    raw, org, member = _members_only_key(world), world["org1"], world["member"]
    r = api.patch(_member_url(org, member), {"role": "viewer"}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    assert _role(world, member) == "viewer"


def test_it_still_promotes_nobody_beyond_what_it_holds(api: APIClient, world: dict[str, Any]) -> None:
    raw, org = _members_only_key(world), world["org1"]
    for user, role in ((world["viewer"], "member"), (world["member"], "admin"), (world["viewer"], "admin")):
        before = _role(world, user)
        r = api.patch(_member_url(org, user), {"role": role}, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 403 and r.json()["error"] == "PERMISSION_DENIED", r.content
        assert _role(world, user) == before
