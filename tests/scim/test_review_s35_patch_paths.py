"""Review s35: a PATCH path naming a sub-attribute the attribute does not have is a 400
invalidPath (RFC 7644 §3.5.2, §3.12), never silently accepted; RFC 7643 sub-attributes
Tater does not keep (emails.display) stay ignored, as do unknown attributes and extensions."""

from __future__ import annotations

import pytest

from tests.scim.conftest import new_user, patch_op

pytestmark = pytest.mark.django_db


@pytest.fixture
def mia(acme):
    r = acme.scim.post("/Users", new_user("mia@acme.test"))
    assert r.status_code == 201
    return r.json()


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": 'emails[type eq "work"].foo', "value": "x"},
        {"op": "add", "path": 'emails[type eq "home"].foo', "value": "x"},
        {"op": "remove", "path": 'emails[type eq "work"].foo'},
        {"op": "replace", "path": "name.foo", "value": "x"},
        {"op": "replace", "path": "emails.foo", "value": "x"},
        {"op": "replace", "value": {"name.foo": "x"}},
        {"op": "replace", "path": 'emails[foo eq "x"].value', "value": "a@acme.test"},
    ],
)
def test_an_unknown_sub_attribute_is_invalid_path(acme, mia, operation):
    r = acme.scim.patch(f"/Users/{mia['id']}", patch_op(operation))
    assert r.status_code == 400, r.content
    assert r.json()["scimType"] == "invalidPath"
    assert acme.scim.get(f"/Users/{mia['id']}")["ETag"] == 'W/"1"'


def test_an_unknown_member_sub_attribute_is_invalid_path(acme, mia):
    group = acme.scim.post("/Groups", {"displayName": "Eng", "members": [{"value": mia["id"]}]}).json()
    r = acme.scim.patch(
        f"/Groups/{group['id']}",
        patch_op({"op": "replace", "path": f'members[value eq "{mia["id"]}"].foo', "value": 1}),
    )
    assert r.status_code == 400 and r.json()["scimType"] == "invalidPath"


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": 'emails[type eq "work"].display', "value": "Mia"},
        {"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "+1"},
        {
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "value": "R&D",
        },
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "mia@acme.test"},
        {"op": "replace", "value": {"name.givenName": "Mia"}},
    ],
)
def test_known_and_ignored_paths_still_apply(acme, mia, operation):
    r = acme.scim.patch(f"/Users/{mia['id']}", patch_op(operation))
    assert r.status_code == 200, r.content
