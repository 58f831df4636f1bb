"""The wire protocol (RFC 7644) as identity providers use it: content type, error schema,
filters, paging, projections, ETags, and PATCH in the shapes Entra ID and Okta send."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scim.conftest import SCIM_JSON, ScimClient, new_user, patch_op

pytestmark = pytest.mark.django_db

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(SCIM_JSON)
    body = response.json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)  # a string (RFC 7644 §3.12)
    assert body["detail"]
    if scim_type is not None:
        assert body["scimType"] == scim_type
    return body


def create(client: ScimClient, email: str, **attrs: Any) -> dict[str, Any]:
    response = client.post("/Users", new_user(email, **attrs))
    assert response.status_code == 201, response.content
    return response.json()


# --- Content type and errors --------------------------------------------------------------


def test_answers_are_scim_json_whatever_accept_says(acme):
    r = acme.scim.get("/ServiceProviderConfig", HTTP_ACCEPT="application/json")
    assert r.status_code == 200 and r["Content-Type"].startswith(SCIM_JSON)
    assert r.json()["etag"] == {"supported": True}
    assert r.json()["patch"] == {"supported": True}


def test_plain_json_bodies_are_accepted(acme):
    r = acme.scim.client.post(
        "/scim/v2/Users",
        data='{"userName": "plain@acme.test"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {acme.secret}",
    )
    assert r.status_code == 201 and r["Content-Type"].startswith(SCIM_JSON)


@pytest.mark.parametrize(
    "path", ["/nope", "/Users/not-an-id", "/Groups/not-an-id", "/Schemas/urn:nope", "/ResourceTypes/Nope", "/"]
)
def test_unknown_things_are_scim_404s(acme, path):
    scim_error(acme.scim.get(path), 404)


def test_unsupported_method_is_a_scim_405(acme):
    scim_error(acme.scim.send("DELETE", "/Schemas"), 405)
    scim_error(acme.scim.send("PUT", "/Users"), 405)


def test_bulk_and_me_are_not_implemented(acme):
    scim_error(acme.scim.post("/Bulk", {"Operations": []}), 501)
    scim_error(acme.scim.get("/Me"), 501)


def test_malformed_json_is_invalid_syntax(acme):
    r = acme.scim.client.post(
        "/scim/v2/Users", data="{nope", content_type=SCIM_JSON, HTTP_AUTHORIZATION=f"Bearer {acme.secret}"
    )
    scim_error(r, 400, "invalidSyntax")


def test_other_media_types_are_refused(acme):
    r = acme.scim.client.post(
        "/scim/v2/Users", data="userName=x", content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {acme.secret}"
    )
    scim_error(r, 415)


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"name": {"givenName": "x"}}, "invalidValue"),  # no userName
        ({"userName": 42}, "invalidValue"),
        ({"userName": "a@acme.test", "active": "perhaps"}, "invalidValue"),
        (
            {
                "userName": "a@acme.test",
                "emails": [{"value": "a@acme.test", "primary": True}, {"value": "b@acme.test", "primary": True}],
            },
            "invalidValue",
        ),
        ({"userName": "a@acme.test", "displayName": "x" * 256}, "invalidValue"),
        ({"userName": "a@acme.test", "displayName": "nul\x00"}, None),
        (["not", "an", "object"], "invalidSyntax"),
    ],
)
def test_invalid_users_are_400s(acme, body, scim_type):
    scim_error(acme.scim.post("/Users", body), 400, scim_type)


def test_duplicate_user_name_is_a_uniqueness_conflict_in_any_case(acme):
    create(acme.scim, "dup@acme.test")
    scim_error(acme.scim.post("/Users", new_user("DUP@Acme.test")), 409, "uniqueness")


def test_attributes_tater_does_not_keep_are_ignored(acme):
    body = new_user(
        "extra@acme.test",
        title="Engineer",
        phoneNumbers=[{"value": "+1 555", "type": "work"}],
        **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}},
    )
    created = acme.scim.post("/Users", body).json()
    assert "title" not in created and "phoneNumbers" not in created
    assert not any(key.startswith("urn:") for key in created)


def test_trailing_slashes_are_served(acme):
    assert acme.scim.get("/Users/").status_code == 200
    user = create(acme.scim, "slash@acme.test")
    assert acme.scim.get(f"/Users/{user['id']}/").json()["id"] == user["id"]


# --- Filters and paging ---------------------------------------------------------------------


def test_filters_the_identity_providers_use(acme):
    ada = create(acme.scim, "ada@acme.test", externalId="ext-ada", displayName="Ada L")
    create(acme.scim, "bob@acme.test", externalId="ext-bob")
    for query, expected in [
        ('userName eq "ada@acme.test"', [ada["id"]]),
        ('userName eq "ADA@ACME.TEST"', [ada["id"]]),  # caseExact false
        ('externalId eq "ext-ada"', [ada["id"]]),
        ('externalId eq "EXT-ADA"', []),  # externalId is caseExact
        ('displayName eq "ada l"', [ada["id"]]),
        (f'id eq "{ada["id"]}"', [ada["id"]]),
        ('userName eq "ada@acme.test" and externalId eq "ext-ada"', [ada["id"]]),
        ('userName eq "nobody@acme.test"', []),
    ]:
        r = acme.scim.get("/Users", QUERY_STRING=f"filter={_quote(query)}")
        assert r.status_code == 200, (query, r.content)
        assert [u["id"] for u in r.json()["Resources"]] == expected, query
        assert r.json()["totalResults"] == len(expected)


def test_group_filters(acme):
    user = create(acme.scim, "member@acme.test")
    group = acme.scim.post(
        "/Groups", {"displayName": "Engineering", "externalId": "g-1", "members": [{"value": user["id"]}]}
    ).json()
    acme.scim.post("/Groups", {"displayName": "Sales"})
    for query, expected in [
        ('displayName eq "engineering"', [group["id"]]),
        ('externalId eq "g-1"', [group["id"]]),
        # Entra ID's membership check.
        (f'id eq "{group["id"]}" and members eq "{user["id"]}"', [group["id"]]),
        (f'members.value eq "{user["id"]}"', [group["id"]]),
    ]:
        r = acme.scim.get("/Groups", QUERY_STRING=f"filter={_quote(query)}&excludedAttributes=members")
        assert [g["id"] for g in r.json()["Resources"]] == expected, query
        assert all("members" not in g for g in r.json()["Resources"])


@pytest.mark.parametrize(
    "query",
    [
        'userName co "ada"',
        'title eq "x"',
        "userName eq",
        "userName eq ada",
        '(userName eq "a"',
        'emails[type eq "work"]',
    ],
)
def test_unsupported_or_malformed_filters_are_invalid_filter(acme, query):
    scim_error(acme.scim.get("/Users", QUERY_STRING=f"filter={_quote(query)}"), 400, "invalidFilter")


def test_paging(acme):
    for i in range(5):
        create(acme.scim, f"page{i}@acme.test")
    everyone = acme.scim.get("/Users").json()
    total = everyone["totalResults"]
    assert total == 6  # the five, and the owner (a member of the tenant)
    page = acme.scim.get("/Users", QUERY_STRING="startIndex=2&count=2").json()
    assert page["startIndex"] == 2 and page["itemsPerPage"] == 2 and page["totalResults"] == total
    assert [u["id"] for u in page["Resources"]] == [u["id"] for u in everyone["Resources"][1:3]]
    assert acme.scim.get("/Users", QUERY_STRING="count=0").json()["Resources"] == []
    # Out-of-range values are interpreted (RFC 7644 §3.4.2.4), not refused.
    assert acme.scim.get("/Users", QUERY_STRING="startIndex=0&count=-5").json()["startIndex"] == 1
    scim_error(acme.scim.get("/Users", QUERY_STRING="count=many"), 400, "invalidValue")


def test_search_requests(acme):
    create(acme.scim, "found@acme.test", externalId="x-1")
    r = acme.scim.post(
        "/Users/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'externalId eq "x-1"',
            "attributes": ["userName"],
        },
    )
    assert r.status_code == 200
    assert r.json()["Resources"] == [
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": r.json()["Resources"][0]["id"],
            "userName": "found@acme.test",
        }
    ]


def test_attribute_projection(acme):
    user = create(acme.scim, "proj@acme.test", externalId="p-1")
    only = acme.scim.get(f"/Users/{user['id']}", QUERY_STRING="attributes=name.givenName,externalId").json()
    assert only == {"schemas": user["schemas"], "id": user["id"], "externalId": "p-1", "name": {"givenName": "Ada"}}
    without = acme.scim.get(f"/Users/{user['id']}", QUERY_STRING="excludedAttributes=emails,meta").json()
    assert "emails" not in without and "meta" not in without and without["userName"] == "proj@acme.test"
    scim_error(acme.scim.get(f"/Users/{user['id']}", QUERY_STRING="attributes=userName&excludedAttributes=emails"), 400)


# --- ETags ----------------------------------------------------------------------------------


def test_etags(acme):
    created = acme.scim.post("/Users", new_user("etag@acme.test"))
    assert created["ETag"] == 'W/"1"' == created.json()["meta"]["version"]
    assert created["Location"] == created.json()["meta"]["location"]
    path = f"/Users/{created.json()['id']}"
    assert acme.scim.get(path, HTTP_IF_NONE_MATCH='W/"1"').status_code == 304
    assert acme.scim.get(path, HTTP_IF_NONE_MATCH='W/"7"').status_code == 200
    changed = acme.scim.patch(
        path, patch_op({"op": "replace", "path": "displayName", "value": "E"}), HTTP_IF_MATCH='W/"1"'
    )
    assert changed.status_code == 200 and changed["ETag"] == 'W/"2"'
    scim_error(
        acme.scim.patch(path, patch_op({"op": "replace", "path": "displayName", "value": "F"}), HTTP_IF_MATCH='W/"1"'),
        412,
    )
    scim_error(acme.scim.delete(path, HTTP_IF_MATCH='W/"1"'), 412)
    assert acme.scim.get(path).json()["displayName"] == "E"
    assert acme.scim.delete(path, HTTP_IF_MATCH="*").status_code == 204


def test_a_noop_change_keeps_the_version(acme):
    user = create(acme.scim, "same@acme.test")
    again = acme.scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "path": "active", "value": True}))
    assert again.json()["meta"]["version"] == 'W/"1"'


# --- PATCH shapes ---------------------------------------------------------------------------


def test_entra_id_patch_shapes(acme):
    """Capitalised ops, booleans as strings, filtered paths, path-less value objects."""
    user = create(acme.scim, "entra@acme.test")
    path = f"/Users/{user['id']}"
    r = acme.scim.patch(
        path,
        patch_op(
            {"op": "Replace", "path": "displayName", "value": "Ada Entra"},
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "entra@acme.test"},
            {"op": "Add", "path": 'emails[type eq "home"].value', "value": "ada@home.test"},
            {"op": "Replace", "path": "name.givenName", "value": "Augusta"},
            {"op": "Add", "path": "externalId", "value": "0f3c"},
            {
                "op": "Add",
                "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "value": "R&D",
            },
            {"op": "Replace", "path": "active", "value": "False"},
        ),
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["displayName"] == "Ada Entra" and body["externalId"] == "0f3c" and body["active"] is False
    assert body["name"] == {"givenName": "Augusta", "familyName": "Lovelace"}
    assert body["emails"] == [
        {"value": "entra@acme.test", "type": "work", "primary": True},
        {"type": "home", "value": "ada@home.test"},
    ]
    r = acme.scim.patch(path, patch_op({"op": "Replace", "value": {"active": "True", "name.familyName": "King"}}))
    assert r.json()["active"] is True and r.json()["name"]["familyName"] == "King"


def test_okta_patch_shapes(acme):
    user = create(acme.scim, "okta@acme.test")
    path = f"/Users/{user['id']}"
    r = acme.scim.patch(path, patch_op({"op": "replace", "value": {"active": False}}))
    assert r.json()["active"] is False
    r = acme.scim.patch(
        path,
        patch_op(
            {
                "op": "replace",
                "value": {"id": user["id"], "active": True, "name": {"givenName": "Ada", "familyName": "Byron"}},
            }
        ),
    )
    assert r.status_code == 200 and r.json()["active"] is True and r.json()["name"]["familyName"] == "Byron"


def test_group_member_patches_from_both_providers(acme):
    a, b, c = (create(acme.scim, f"{n}@acme.test")["id"] for n in ("a", "b", "c"))
    group = acme.scim.post("/Groups", {"displayName": "Team"}).json()
    path = f"/Groups/{group['id']}"
    # Okta: add a list, remove with a value filter.
    acme.scim.patch(
        path, patch_op({"op": "add", "path": "members", "value": [{"value": a, "display": "a"}, {"value": b}]})
    )
    acme.scim.patch(path, patch_op({"op": "remove", "path": f'members[value eq "{a}"]'}))
    # Entra ID: capitalised ops, remove with a value list instead of a filter.
    acme.scim.patch(path, patch_op({"op": "Add", "path": "members", "value": [{"value": c}]}))
    r = acme.scim.patch(path, patch_op({"op": "Remove", "path": "members", "value": [{"value": b}]}))
    assert [m["value"] for m in r.json()["members"]] == [c]
    assert r.json()["members"][0] == {"value": c, "$ref": f"http://testserver/scim/v2/Users/{c}", "type": "User"}
    r = acme.scim.patch(path, patch_op({"op": "Replace", "value": {"id": group["id"], "displayName": "Team 2"}}))
    assert r.json()["displayName"] == "Team 2"
    r = acme.scim.patch(path, patch_op({"op": "remove", "path": "members"}))
    assert "members" not in r.json()


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "move", "path": "displayName", "value": "x"}, "invalidSyntax"),
        ({"op": "remove"}, "noTarget"),
        ({"op": "replace", "path": "id", "value": "mine"}, "mutability"),
        ({"op": "replace", "path": "emails[type eq", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": 'displayName[value eq "x"]', "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": 'emails[type co "zzz"].value', "value": "x@acme.test"}, "noTarget"),
        ({"op": "replace", "value": "not an object"}, "invalidValue"),
    ],
)
def test_bad_patches(acme, operation, scim_type):
    user = create(acme.scim, "bad@acme.test")
    scim_error(acme.scim.patch(f"/Users/{user['id']}", patch_op(operation)), 400, scim_type)
    assert acme.scim.get(f"/Users/{user['id']}").json()["meta"]["version"] == 'W/"1"'


def test_a_failing_operation_applies_none(acme):
    user = create(acme.scim, "atomic@acme.test")
    scim_error(
        acme.scim.patch(
            f"/Users/{user['id']}",
            patch_op(
                {"op": "replace", "path": "displayName", "value": "changed"},
                {"op": "replace", "path": "active", "value": "maybe"},
            ),
        ),
        400,
    )
    assert "displayName" not in acme.scim.get(f"/Users/{user['id']}").json()


def test_unknown_group_member_is_refused(acme):
    scim_error(
        acme.scim.post("/Groups", {"displayName": "G", "members": [{"value": "no-such-user"}]}), 400, "invalidValue"
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def test_a_bad_projection_is_refused_before_anything_is_written(acme):
    r = acme.scim.send("POST", "/Users?attributes=name[x", new_user("early@acme.test"))
    scim_error(r, 400)
    assert (
        acme.scim.get("/Users", QUERY_STRING="filter=userName%20eq%20%22early@acme.test%22").json()["totalResults"] == 0
    )


@pytest.mark.parametrize(
    "path",
    ["/Users/abc%00def", "/Users?filter=userName%20eq%20%22a%00%22", "/Groups?filter=displayName%20eq%20%22%00%22"],
)
def test_nul_characters_are_a_400_not_a_500(acme, path):
    base, _, query = path.partition("?")
    scim_error(acme.scim.get(base, QUERY_STRING=query), 400)


def test_huge_paging_values_are_interpreted(acme):
    r = acme.scim.get("/Users", QUERY_STRING=f"startIndex={10**30}&count={10**30}")
    assert r.status_code == 200 and r.json()["Resources"] == []
