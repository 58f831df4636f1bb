"""Review of /scim/v2/ (session 33): a deeply nested filter, and a platform operator's
account renamed by a tenant's directory."""

from __future__ import annotations

import urllib.parse

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from tests.factories import UserFactory, add_member
from tests.scim.conftest import patch_op

pytestmark = pytest.mark.django_db

User = get_user_model()
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def user_id(d, email: str) -> str:
    found = d.scim.get("/Users", QUERY_STRING="filter=" + urllib.parse.quote(f'userName eq "{email}"')).json()
    assert found["totalResults"] == 1, found
    return found["Resources"][0]["id"]


# --- Filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("opening", ["(", "not ("])
@pytest.mark.parametrize("where", ["get", "search"])
def test_a_deeply_nested_filter_is_invalid_filter_not_a_500(acme, opening, where):
    """RFC 7644 §3.4.2.2/§3.12: a filter the service provider will not evaluate is a 400
    invalidFilter, never a 500 (here: a few hundred nested parentheses, well under the
    length limit, exhausted the parser's recursion)."""
    depth = 480 // len(opening)
    text = opening * depth + 'userName eq "a"' + ")" * depth
    if where == "get":
        r = acme.scim.get("/Users", QUERY_STRING="filter=" + urllib.parse.quote(text))
    else:
        r = acme.scim.post("/Users/.search", {"filter": text})
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["schemas"] == [ERROR] and body["status"] == "400" and body["scimType"] == "invalidFilter"


def test_reasonably_nested_filters_still_work(acme):
    text = "((" + 'userName eq "owner@acme.test"' + ") or (not (" + 'userName eq "x"' + ")))"
    r = acme.scim.get("/Users", QUERY_STRING="filter=" + urllib.parse.quote(text))
    assert r.status_code == 200 and r.json()["totalResults"] == 1


# --- Platform operators -----------------------------------------------------------------------


def test_a_tenants_directory_never_renames_a_platform_operator(acme):
    """A staff/superuser account is the operators' own (docs/scim.md §4: never deactivated by a
    tenant's directory; SPEC §10: operators work through the admin). A tenant that merely has
    the operator in one of its orgs must not move the operator's sign-in address (which also
    drops every other address of the account) nor rewrite its name."""
    operator = add_member(
        acme.orgs[0], "member", UserFactory(email="ops@acme.test", first_name="Olga", is_staff=True, is_superuser=True)
    )
    EmailAddress.objects.create(user=operator, email="olga@operators.test", verified=True, primary=False)
    scim_id = user_id(acme, "ops@acme.test")

    r = acme.scim.patch(f"/Users/{scim_id}", patch_op({"op": "replace", "path": "userName", "value": "ops2@acme.test"}))
    assert r.status_code == 400, r.content
    assert r.json()["scimType"] == "mutability"
    operator.refresh_from_db()
    assert operator.email == "ops@acme.test"
    assert EmailAddress.objects.filter(user=operator, email="olga@operators.test").exists()

    r = acme.scim.patch(f"/Users/{scim_id}", patch_op({"op": "replace", "path": "name.givenName", "value": "Mallory"}))
    assert r.status_code == 200, r.content
    operator.refresh_from_db()
    assert operator.first_name == "Olga"
