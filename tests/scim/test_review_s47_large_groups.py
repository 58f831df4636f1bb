"""A Group the identity provider grows past 10,000 members (SPEC §13: Users and Groups, PATCH
as Entra ID and Okta send it): each addition is a PATCH naming one or a few members, as both
IdPs send it. The 10,001st addition was refused with ``400 tooMany`` "At most 10000 members
per request" although the request named one member: the limit counted the group's members
after the change, not those the request sent, so a large "All staff" group stopped taking
anyone (and their mapped role) once it reached 10,000, with a message blaming the request.
The limit is on what one request sends; a group may hold more."""

from __future__ import annotations

import pytest

from scim.models import ScimGroup, ScimGroupMember, ScimUser
from tests.scim.conftest import patch_op, provision

pytestmark = pytest.mark.django_db

FULL = 10_000  # members an earlier sync already put in the group


def _big_group(d) -> ScimGroup:
    """The state after the identity provider's earlier syncs (set up in bulk for speed)."""
    users = ScimUser.objects.bulk_create(
        ScimUser(tenant=d.tenant, user_name=f"p{i}@elsewhere.test", user_name_key=f"p{i}@elsewhere.test")
        for i in range(FULL)
    )
    group = ScimGroup.objects.create(tenant=d.tenant, display_name="All staff", display_name_key="all staff")
    ScimGroupMember.objects.bulk_create(ScimGroupMember(group=group, identity=u) for u in users)
    return group


def test_a_group_of_ten_thousand_takes_one_more_member(acme) -> None:
    group = _big_group(acme)
    newcomer = provision(acme, "newcomer@acme.test")

    r = acme.scim.patch(
        f"/Groups/{group.public_id}",
        patch_op({"op": "Add", "path": "members", "value": [{"value": newcomer["id"]}]}),
        QUERY_STRING="excludedAttributes=members",
    )

    assert r.status_code == 200, r.content
    check = acme.scim.get(
        "/Groups",
        QUERY_STRING=f'filter=id eq "{group.public_id}" and members eq "{newcomer["id"]}"&excludedAttributes=members',
    )
    assert check.json()["totalResults"] == 1


def test_one_request_still_sends_at_most_ten_thousand_members(acme) -> None:
    members = [{"value": f"u-{i}"} for i in range(FULL + 1)]
    r = acme.scim.post("/Groups", {"displayName": "Too many at once", "members": members})
    assert r.status_code == 400
    assert r.json()["scimType"] == "tooMany"
    assert not ScimGroup.objects.filter(display_name="Too many at once").exists()
