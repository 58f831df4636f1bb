"""A resource's attributes may sit under their schema's URN, as an object (RFC 7643 §3, §3.3;
RFC 7644 §3.5.2: a path-less PATCH value "MUST contain a set of attributes"). A schema URN
key whose value is not an object (``{"op": "replace", "value": {"urn:…:core:2.0:User": 5}}``,
the enterprise extension as a string or a list) was quietly ignored in a path-less PATCH and
in a POST/PUT body, answering 200 for a request that changed nothing the identity provider
meant to change. It is a 400 ``invalidSyntax`` naming the key (docs/scim.md §6); attributes
Tater does not keep, and extension attributes given by their full path, are still ignored.
A null stands for no attributes (RFC 7643 §2.5), as a null attribute does."""

from __future__ import annotations

import pytest

from tests.scim.conftest import new_user, patch_op, provision

pytestmark = pytest.mark.django_db

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
NOT_OBJECTS = [5, "x", True, [], [{"displayName": "Ada"}]]


def _refused(r, key: str) -> None:
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["scimType"] == "invalidSyntax"
    assert key in body["detail"]


@pytest.mark.parametrize("key", [USER, USER.upper(), ENTERPRISE])
@pytest.mark.parametrize("value", NOT_OBJECTS)
@pytest.mark.parametrize("op", ["replace", "add"])
def test_a_pathless_patch_schema_key_must_hold_an_object(acme, key: str, value, op: str) -> None:
    user = provision(acme, "ada@acme.test", displayName="Ada")
    r = acme.scim.patch(f"/Users/{user['id']}", patch_op({"op": op, "value": {"displayName": "Changed", key: value}}))
    _refused(r, key)
    assert acme.scim.get(f"/Users/{user['id']}").json()["displayName"] == "Ada"  # nothing applied


@pytest.mark.parametrize("value", NOT_OBJECTS)
def test_a_group_pathless_patch_schema_key_must_hold_an_object(acme, value) -> None:
    group = acme.scim.post("/Groups", {"schemas": [GROUP], "displayName": "Staff"}).json()
    r = acme.scim.patch(f"/Groups/{group['id']}", patch_op({"op": "replace", "value": {GROUP: value}}))
    _refused(r, GROUP)


@pytest.mark.parametrize("key", [USER, ENTERPRISE])
@pytest.mark.parametrize("value", NOT_OBJECTS)
def test_a_body_schema_key_must_hold_an_object(acme, key: str, value) -> None:
    _refused(acme.scim.post("/Users", {**new_user("bob@acme.test"), key: value}), key)
    user = provision(acme, "ada@acme.test")
    _refused(acme.scim.put(f"/Users/{user['id']}", {**new_user("ada@acme.test"), key: value}), key)


def test_objects_and_ignored_attributes_still_apply(acme) -> None:
    user = provision(acme, "ada@acme.test")
    value = {
        USER: {"displayName": "Ada L."},
        ENTERPRISE: {"department": "R&D"},
        f"{ENTERPRISE}:employeeNumber": "42",
        "urn:example:custom:1.0:User:badge": 7,
    }
    r = acme.scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "value": value}))
    assert r.status_code == 200, r.content
    assert r.json()["displayName"] == "Ada L."
    r = acme.scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "value": {ENTERPRISE: None}}))
    assert r.status_code == 200, r.content
    r = acme.scim.put(f"/Users/{user['id']}", {**new_user("ada@acme.test"), ENTERPRISE: {"department": "Ops"}})
    assert r.status_code == 200, r.content
