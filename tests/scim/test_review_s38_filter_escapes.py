"""Found by an input review of the SCIM surface (2026-12-06), expectations from SPEC §3
("never a 500 for bad input") and RFC 7644 §3.12 (a filter the server cannot evaluate is a
400 ``invalidFilter``):

a filter's string literal is JSON text, so its escapes are decoded: ``userName eq
"\\ud800"`` compared a lone UTF-16 surrogate with the database (which no UTF-8 encoder
takes: a 500), and ``"\\u0000"`` a NUL (which PostgreSQL refuses in a query: a 500). The
request's NUL check only sees a raw ``%00``, not its escape. Both are now a 400
``invalidFilter`` in a list's ``filter`` parameter or a ``.search`` body (``invalidPath`` in
a PATCH path).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.scim.conftest import patch_op, provision
from tests.scim.test_protocol import scim_error

SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
ESCAPES = ["\\ud800", "a\\udfffb", "\\u0000", "x\\u0000y", "\\ud83d\\\\ude00"]


@pytest.mark.django_db
@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize(("resource", "attribute"), [("/Users", "userName"), ("/Groups", "displayName")])
def test_an_escaped_nul_or_lone_surrogate_in_a_list_filter_is_invalid_filter(acme, resource, attribute, escape):
    query = quote(f'{attribute} eq "{escape}"')
    body = scim_error(acme.scim.get(resource, QUERY_STRING=f"filter={query}"), 400, "invalidFilter")
    assert "filter" in body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("path", ["/.search", "/Users/.search", "/Groups/.search"])
def test_an_escaped_nul_or_lone_surrogate_in_a_search_body_is_invalid_filter(acme, path, escape):
    search: dict[str, Any] = {"schemas": [SEARCH], "filter": f'externalId eq "{escape}"'}
    scim_error(acme.scim.post(path, search), 400, "invalidFilter")


@pytest.mark.django_db
def test_an_escaped_lone_surrogate_in_a_patch_path_changes_nothing(acme):
    user = provision(acme, "ada@acme.test")
    op = patch_op({"op": "replace", "path": 'emails[value eq "\\ud800"].type', "value": "home"})
    scim_error(acme.scim.patch(f"/Users/{user['id']}", op), 400, "invalidPath")
    assert acme.scim.get(f"/Users/{user['id']}").json()["emails"][0]["type"] == "work"


@pytest.mark.django_db
def test_surrogate_pairs_and_ordinary_escapes_still_filter(acme):
    provision(acme, "zoe@acme.test")
    query = quote('userName eq "zo\\u0065@acme.test"')
    r = acme.scim.get("/Users", QUERY_STRING=f"filter={query}")
    assert r.status_code == 200 and r.json()["totalResults"] == 1
    query = quote('displayName eq "\\ud83d\\ude00"')
    assert acme.scim.get("/Groups", QUERY_STRING=f"filter={query}").status_code == 200
