"""Review s35: a SCIM token of tenant A against tenant B's people and groups, outside
/scim/v2/, and on addresses of accounts that belong elsewhere."""

from __future__ import annotations

import urllib.parse

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from scim.models import ScimUser
from tests.factories import UserFactory, add_member
from tests.scim.conftest import new_user, patch_op

pytestmark = pytest.mark.django_db
User = get_user_model()


def _count(d, text: str) -> int:
    r = d.scim.get("/Users", QUERY_STRING="filter=" + urllib.parse.quote(text))
    assert r.status_code == 200, r.content
    return r.json()["totalResults"]


@pytest.fixture
def gus(globex):
    r = globex.scim.post("/Users", new_user("gus@globex.test", externalId="ext-gus"))
    assert r.status_code == 201
    group = globex.scim.post(
        "/Groups", {"displayName": "Globex Eng", "externalId": "g-1", "members": [{"value": r.json()["id"]}]}
    )
    return {"id": r.json()["id"], "group": group.json()["id"]}


def test_another_tenants_users_and_groups_are_invisible(acme, globex, gus):
    assert _count(acme, 'externalId eq "ext-gus"') == 0
    assert _count(acme, f'id eq "{gus["id"]}"') == 0
    assert _count(acme, 'userName eq "gus@globex.test"') == 0
    assert _count(acme, 'userName eq "owner@globex.test"') == 0
    assert acme.scim.get(f"/Users/{gus['id']}").status_code == 404
    assert acme.scim.get(f"/Groups/{gus['group']}").status_code == 404
    assert (
        acme.scim.get("/Groups", QUERY_STRING="filter=" + urllib.parse.quote('externalId eq "g-1"')).json()[
            "totalResults"
        ]
        == 0
    )
    assert (
        acme.scim.patch(f"/Groups/{gus['group']}", patch_op({"op": "add", "path": "members", "value": []})).status_code
        == 404
    )
    assert acme.scim.delete(f"/Groups/{gus['group']}").status_code == 404
    listed = acme.scim.post("/.search", {}).json()
    assert all("globex" not in str(resource) for resource in listed["Resources"])


def test_another_tenants_people_cannot_join_a_group(acme, globex, gus):
    owner_entry = globex.scim.get(
        "/Users", QUERY_STRING="filter=" + urllib.parse.quote('userName eq "owner@globex.test"')
    )
    ids = [gus["id"], owner_entry.json()["Resources"][0]["id"]]
    for member in ids:
        r = acme.scim.post("/Groups", {"displayName": f"Steal {member}", "members": [{"value": member}]})
        assert r.status_code == 400, r.content
    mine = acme.scim.post("/Groups", {"displayName": "Acme Eng"}).json()
    for member in ids:
        r = acme.scim.patch(
            f"/Groups/{mine['id']}", patch_op({"op": "add", "path": "members", "value": [{"value": member}]})
        )
        assert r.status_code == 400, r.content


def test_an_address_of_another_tenants_account_is_never_taken_over_nor_revealed(acme, globex, gus):
    """Acme provisions the address of an account only Globex holds, and one nobody has: the
    answers look alike, and the account is untouched by Acme's later changes."""
    gus_account = User.objects.get(email="gus@globex.test")
    taken = acme.scim.post("/Users", new_user("gus@globex.test", name={"givenName": "Evil", "familyName": "Acme"}))
    free = acme.scim.post("/Users", new_user("nobody@globex.test"))
    assert taken.status_code == free.status_code == 201
    shape = lambda r: sorted(k for k in r.json() if k not in ("id", "meta"))  # noqa: E731
    assert shape(taken) == shape(free)
    assert ScimUser.objects.get(public_id=taken.json()["id"]).user is None
    assert not User.objects.filter(email="nobody@globex.test").exists()
    r = acme.scim.patch(
        f"/Users/{taken.json()['id']}",
        patch_op({"op": "replace", "value": {"active": False, "userName": "gus2@acme.test"}}),
    )
    assert r.status_code == 200
    gus_account.refresh_from_db()
    assert (gus_account.email, gus_account.first_name, gus_account.is_active) == ("gus@globex.test", "Ada", True)


def test_an_account_elsewhere_with_an_address_in_my_domain_is_not_linked(acme, globex):
    """Globex's member signed up with an acme.test address; Acme's directory may not take it."""
    carl = add_member(globex.orgs[0], "member", UserFactory(email="carl@acme.test", first_name="Carl"))
    r = acme.scim.post("/Users", new_user("carl@acme.test"))
    assert r.status_code == 201
    assert ScimUser.objects.get(public_id=r.json()["id"]).user is None
    acme.scim.patch(f"/Users/{r.json()['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    carl.refresh_from_db()
    assert carl.is_active and carl.first_name == "Carl"


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/keys/", "/api/v1/scim-tokens/", "/api/v1/audit-events/"])
def test_a_scim_token_opens_nothing_outside_scim(acme, path):
    client = APIClient()
    for header in ({"HTTP_AUTHORIZATION": f"Bearer {acme.secret}"}, {"HTTP_X_API_KEY": acme.secret}):
        r = client.get(path, **header)
        assert r.status_code in (401, 404), (path, r.status_code)
    r = client.post("/api/v1/scim-tokens/", {"name": "x"}, format="json", HTTP_AUTHORIZATION=f"Bearer {acme.secret}")
    assert r.status_code in (401, 403)
