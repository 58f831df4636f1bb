"""README "Org resolution" / SPEC §4: an unbound key's hint picks the org on reads.

`GET /api/v1/keys/?organizationId=B` with the tenant owner's unbound key listed every key
of its owner, those of org A included, while the same call without a hint is a 400
AMBIGUOUS_ORG: the hint was demanded, then ignored. The list is now the picked org's keys
and the owner's unbound keys (what the owner's session sees on that org); reading, revoking
or narrowing a key of another org by its id is unchanged (SPEC §2a: an unbound key reaches
all of its owner's keys).
"""

from __future__ import annotations

import pytest

from tests.factories import make_key

LIST = "/api/v1/keys/"


def listed(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {k["id"] for k in response.json()["keys"]}


@pytest.mark.django_db
def test_the_hint_picks_the_org_of_the_list(api, world):
    tenant, owner, org1, org2 = world["tenant"], world["owner"], world["org1"], world["org2"]
    unbound, unbound_raw = make_key(user=owner, tenant=tenant, org=None, name="cron")
    in_org2, _ = make_key(user=owner, tenant=tenant, org=org2, name="org2 key")
    in_org1 = world["owner_key"]

    r = api.get(LIST, {"organizationId": org2.public_id}, HTTP_X_API_KEY=unbound_raw)
    assert listed(r) == {in_org2.public_id, unbound.public_id}
    assert r.json()["total"] == 2

    r = api.get(LIST, HTTP_X_WORKSPACE_ID=org1.public_id, HTTP_X_API_KEY=unbound_raw)
    assert in_org1.public_id in listed(r)
    assert in_org2.public_id not in listed(r)

    r = api.get(LIST, {"organizationId": org2.public_id, "binding": "org"}, HTTP_X_API_KEY=unbound_raw)
    assert listed(r) == {in_org2.public_id}


@pytest.mark.django_db
def test_a_key_of_another_org_is_still_reached_by_its_id(api, world):
    tenant, owner, org2 = world["tenant"], world["owner"], world["org2"]
    _, unbound_raw = make_key(user=owner, tenant=tenant, org=None, name="cron")
    in_org1 = world["owner_key"]
    r = api.get(f"{LIST}{in_org1.public_id}/", {"organizationId": org2.public_id}, HTTP_X_API_KEY=unbound_raw)
    assert r.status_code == 200, r.content
    assert r.json()["id"] == in_org1.public_id
