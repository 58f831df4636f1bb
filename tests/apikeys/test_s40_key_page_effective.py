"""SPEC §2: a key never does more than its owner's role allows; an owner demoted keeps their
``*`` key, which is narrowed with them (validate reports the narrower permissions). The key's
page listed every permission ``*`` names under "Permissions" whatever the owner's role, so the
tenant owner looking at the demoted admin's key read that it may still manage members and
keys (review s40 D)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from orgs.models import OrgMembership
from tests.factories import make_key

pytestmark = pytest.mark.django_db


def listed_permissions(viewer, key, org) -> set[str]:
    client = Client()
    client.force_login(viewer)
    response = client.get(reverse("apikey_detail", args=[key.public_id]), {"org": org.public_id})
    assert response.status_code == 200
    html = response.content.decode()
    (listed,) = re.findall(r"<dt>Permissions</dt><dd>.*?<span class=\"sub muted\">(.*?)</span>", html, re.S)
    return {p.strip() for p in listed.split(",") if p.strip()}


def validated_permissions(api, raw) -> set[str]:
    r = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
    assert r.status_code == 200, r.content
    return set(r.json()["permissions"])


def test_a_demoted_owners_full_access_key_lists_what_it_may_still_do(api, world):
    key, raw = make_key(user=world["admin"], tenant=world["tenant"], org=world["org1"], scopes=["*"], name="ops")
    before = listed_permissions(world["owner"], key, world["org1"])
    assert "members:write" in before and before == validated_permissions(api, raw)

    membership = OrgMembership.objects.get(user=world["admin"], organization=world["org1"])
    membership.role = "member"
    membership.save()

    after = validated_permissions(api, raw)
    assert "members:write" not in after
    assert listed_permissions(world["owner"], key, world["org1"]) == after


def test_a_key_of_someone_who_left_the_org_lists_nothing(api, world):
    key, _ = make_key(user=world["admin"], tenant=world["tenant"], org=world["org1"], scopes=["*:read"], name="gone")
    OrgMembership.objects.filter(user=world["admin"], organization=world["org1"]).delete()
    assert listed_permissions(world["owner"], key, world["org1"]) == set()
