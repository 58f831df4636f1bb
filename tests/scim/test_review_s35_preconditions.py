"""Review s35: If-None-Match / If-Match on /scim/v2/ resources, with RFC 7232's semantics
(RFC 7644 §3.14 uses them for SCIM's ETags)."""

from __future__ import annotations

import pytest

from tests.scim.conftest import new_user, patch_op

pytestmark = pytest.mark.django_db

RENAME = patch_op({"op": "replace", "path": "displayName", "value": "Renamed"})


@pytest.fixture
def resources(acme):
    user = acme.scim.post("/Users", new_user("mia@acme.test"))
    group = acme.scim.post("/Groups", {"displayName": "Eng"})
    assert user.status_code == group.status_code == 201
    return {"Users": user.json()["id"], "Groups": group.json()["id"]}


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_if_none_match_star_on_an_existing_resource_is_a_304(acme, resources, kind):
    r = acme.scim.get(f"/{kind}/{resources[kind]}", HTTP_IF_NONE_MATCH="*")
    assert r.status_code == 304
    assert r.headers["ETag"]


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_if_none_match_with_an_old_version_is_a_200(acme, resources, kind):
    r = acme.scim.get(f"/{kind}/{resources[kind]}", HTTP_IF_NONE_MATCH='W/"999"')
    assert r.status_code == 200


@pytest.mark.parametrize("kind", ["Users", "Groups"])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_if_none_match_on_a_write_to_an_existing_resource_is_a_412(acme, resources, kind, method):
    path = f"/{kind}/{resources[kind]}"
    etag = acme.scim.get(path)["ETag"]
    for header in ("*", etag):
        r = acme.scim.send(method, path, RENAME if method == "PATCH" else None, HTTP_IF_NONE_MATCH=header)
        assert r.status_code == 412, (header, r.content)
    assert acme.scim.get(path).status_code == 200
    assert acme.scim.get(path)["ETag"] == etag  # nothing changed


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_if_none_match_with_another_version_lets_a_write_through(acme, resources, kind):
    r = acme.scim.patch(f"/{kind}/{resources[kind]}", RENAME, HTTP_IF_NONE_MATCH='W/"999"')
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("kind", ["Users", "Groups"])
def test_if_match_star_and_current_pass_an_old_one_is_a_412(acme, resources, kind):
    path = f"/{kind}/{resources[kind]}"
    etag = acme.scim.get(path)["ETag"]
    assert acme.scim.patch(path, RENAME, HTTP_IF_MATCH='W/"999"').status_code == 412
    assert acme.scim.patch(path, RENAME, HTTP_IF_MATCH=etag).status_code == 200
    assert acme.scim.patch(path, RENAME, HTTP_IF_MATCH="*").status_code == 200
    assert acme.scim.delete(path, HTTP_IF_MATCH=etag).status_code == 412  # the PATCH moved it on
    assert acme.scim.delete(path, HTTP_IF_MATCH="*").status_code == 204


def test_if_none_match_on_a_put_is_a_412(acme, resources):
    path = f"/Users/{resources['Users']}"
    r = acme.scim.put(path, new_user("mia@acme.test", displayName="X"), HTTP_IF_NONE_MATCH="*")
    assert r.status_code == 412
    assert r.json()["status"] == "412"
