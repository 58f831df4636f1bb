"""SPEC §12 (operations at scale) and §13 (SCIM PATCH as Entra ID and Okta send it); docs/scim.md
§6: review s47 made one PATCH operation on a 10,000-member Group linear, but left the number of
operations in one PATCH unbounded. Each operation still walks the whole group, so one request
of a few megabytes (80,000 one-member operations fit in the body limit) held a worker for
minutes of CPU: what the fix meant to stop a token holder doing. As IBM Verify's SCIM API does,
one PATCH carries at most 1,000 operations; more is ``400 tooMany`` and nothing is applied.
Entra ID and Okta send a handful per request."""

from __future__ import annotations

import pytest

from scim.models import ScimGroup, ScimGroupMember
from tests.scim.conftest import patch_op, provision

pytestmark = pytest.mark.django_db


def _group(d) -> ScimGroup:
    r = d.scim.post("/Groups", {"displayName": "Staff"})
    assert r.status_code == 201, r.content
    return ScimGroup.objects.get(public_id=r.json()["id"])


def test_a_patch_of_more_than_a_thousand_operations_is_refused(acme) -> None:
    group = _group(acme)
    person = provision(acme, "someone@acme.test")
    add = {"op": "add", "path": "members", "value": [{"value": person["id"]}]}

    r = acme.scim.patch(f"/Groups/{group.public_id}", patch_op(*[add] * 1001))

    assert r.status_code == 400, r.content
    body = r.json()
    assert body["scimType"] == "tooMany"
    assert "1000" in body["detail"] and "operations" in body["detail"]
    assert not ScimGroupMember.objects.filter(group=group).exists()  # nothing applied


def test_a_patch_of_a_thousand_operations_still_applies(acme) -> None:
    group = _group(acme)
    person = provision(acme, "someone@acme.test")
    add = {"op": "add", "path": "members", "value": [{"value": person["id"]}]}
    rename = {"op": "replace", "path": "displayName", "value": "All staff"}

    r = acme.scim.patch(f"/Groups/{group.public_id}", patch_op(*[add] * 999, rename))

    assert r.status_code == 200, r.content
    assert ScimGroupMember.objects.filter(group=group).count() == 1
    assert ScimGroup.objects.get(pk=group.pk).display_name == "All staff"
