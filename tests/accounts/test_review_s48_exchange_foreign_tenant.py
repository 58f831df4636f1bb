"""SPEC §4 (a ``tenantId`` naming another tenant → 403) and §5 / §5a (the credential exchange,
``POST /api/v1/auth/token`` and Taffy's ``POST /auth/token``): the status and code were right,
but the message said "No organization is reachable: create one or ask to be added to one" (or,
with an ``organizationId`` of the caller's own org, "No access to organization '…'"), sending the
caller to create an org they already have. Key endpoints say "No access to tenant '…'": the
exchange now says the same, and issues no key."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _what_a_key_endpoint_says(api: APIClient, world: dict[str, Any], tenant: str) -> str:
    answer = api.get("/api/v1/keys/", {"tenantId": tenant}, HTTP_X_API_KEY=world["owner_raw"])
    assert answer.status_code == 403
    assert answer.json()["error"] == "WORKSPACE_ACCESS_DENIED"
    return answer.json()["message"]


@pytest.mark.parametrize("with_org", [False, True])
def test_core_exchange_names_the_tenant(api, world, with_org):
    foreign = world["other_tenant"].public_id
    expected = _what_a_key_endpoint_says(api, world, foreign)
    assert foreign in expected
    body = {"email": world["owner"].email, "password": PASSWORD}
    if with_org:
        body["organizationId"] = world["org1"].public_id
    before = ApiKey.objects.count()
    answer = api.post(f"/api/v1/auth/token?tenantId={foreign}", body, format="json")
    assert answer.status_code == 403, answer.content
    assert answer.json()["error"] == "WORKSPACE_ACCESS_DENIED"
    assert answer.json()["message"] == expected
    assert ApiKey.objects.count() == before


def test_taffy_exchange_names_the_tenant(api, world):
    foreign = world["other_tenant"].public_id
    expected = _what_a_key_endpoint_says(api, world, foreign)
    before = ApiKey.objects.count()
    answer = api.post(
        f"/auth/token?tenantId={foreign}", {"username": world["owner"].email, "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 403, answer.content
    assert answer.json() == {"errors": [expected], "data": None}
    assert ApiKey.objects.count() == before


def test_the_own_tenant_still_exchanges(api, world):
    own = world["tenant"].public_id
    answer = api.post(
        f"/api/v1/auth/token?tenantId={own}",
        {"email": world["owner"].email, "password": PASSWORD, "organizationId": world["org1"].public_id},
        format="json",
    )
    assert answer.status_code == 201, answer.content
