"""RFC 7644 §3.5.2: "For multi-valued attributes, a PATCH operation that sets a value's
'primary' sub-attribute to 'true' SHALL cause the server to automatically set 'primary' to
'false' for any other values in the array." An identity provider adding or promoting a
primary email gets it, not a 400; a request that itself names two primaries is still a 400
(RFC 7643 §2.4: at most one) (review s41)."""

from __future__ import annotations

import pytest

from tests.scim.conftest import new_user, patch_op, provision

pytestmark = pytest.mark.django_db


def primaries(resource: dict) -> list[str]:
    return [e["value"] for e in resource.get("emails", []) if e.get("primary") is True]


@pytest.fixture
def ada(acme) -> str:
    return provision(acme, "ada@acme.test")["id"]  # emails: ada@acme.test, work, primary


def test_adding_a_primary_email_demotes_the_old_one(acme, ada):
    r = acme.scim.patch(
        f"/Users/{ada}",
        patch_op(
            {"op": "add", "path": "emails", "value": [{"value": "ada@home.test", "type": "home", "primary": True}]}
        ),
    )
    assert r.status_code == 200, r.content
    assert primaries(r.json()) == ["ada@home.test"]
    assert {e["value"] for e in r.json()["emails"]} == {"ada@acme.test", "ada@home.test"}
    assert primaries(acme.scim.get(f"/Users/{ada}").json()) == ["ada@home.test"]


def test_promoting_an_email_through_a_filter_demotes_the_old_one(acme, ada):
    acme.scim.patch(
        f"/Users/{ada}",
        patch_op({"op": "add", "path": "emails", "value": [{"value": "ada@home.test", "type": "home"}]}),
    )
    # Entra ID's shapes: a capitalised op, a value filter, the boolean as a string.
    r = acme.scim.patch(
        f"/Users/{ada}", patch_op({"op": "Replace", "path": 'emails[type eq "home"].primary', "value": "True"})
    )
    assert r.status_code == 200, r.content
    assert primaries(r.json()) == ["ada@home.test"]


def test_a_pathless_replace_with_a_new_primary(acme, ada):
    r = acme.scim.patch(
        f"/Users/{ada}",
        patch_op(
            {
                "op": "Add",
                "value": {'emails[type eq "other"].value': "a@other.test", 'emails[type eq "other"].primary': True},
            }
        ),
    )
    assert r.status_code == 200, r.content
    assert primaries(r.json()) == ["a@other.test"]


def test_two_primaries_in_one_request_are_still_refused(acme, ada):
    r = acme.scim.patch(
        f"/Users/{ada}",
        patch_op(
            {
                "op": "add",
                "path": "emails",
                "value": [{"value": "x@home.test", "primary": True}, {"value": "y@home.test", "primary": True}],
            }
        ),
    )
    assert r.status_code == 400 and r.json()["scimType"] == "invalidValue"
    both = [{"value": "x@acme.test", "primary": True}, {"value": "y@acme.test", "primary": True}]
    r = acme.scim.put(f"/Users/{ada}", new_user("ada@acme.test", emails=both))
    assert r.status_code == 400
