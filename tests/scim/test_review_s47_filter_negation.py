"""SCIM filters (SPEC §13 "filtering"; RFC 7644 §3.4.2.2): ``not (displayName eq "Ada")`` is
every User not displayed as Ada, including the Users that have no displayName at all (they
do not match ``displayName eq "Ada"``, so its negation matches them). It listed nobody: an
identity provider or script asking for "everyone but Ada" got an empty list."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.scim.conftest import provision

pytestmark = pytest.mark.django_db


def _names(d, path: str, text: str, key: str) -> set[str]:
    r = d.scim.get(path, QUERY_STRING="filter=" + quote(text))
    assert r.status_code == 200, r.content
    return {item[key] for item in r.json()["Resources"]}


def test_not_matches_users_without_the_attribute(acme) -> None:
    provision(acme, "ada@acme.test", displayName="Ada")
    provision(acme, "bob@acme.test", displayName="Bob")
    provision(acme, "cy@acme.test")  # no displayName

    found = _names(acme, "/Users", 'not (displayName eq "Ada")', "userName")

    assert {"bob@acme.test", "cy@acme.test"} <= found
    assert "ada@acme.test" not in found


def test_not_or_and_agree_on_a_missing_display_name(acme) -> None:
    provision(acme, "cy@acme.test")  # no displayName
    found = _names(acme, "/Users", 'userName eq "cy@acme.test" and not (displayName eq "Ada")', "userName")
    assert found == {"cy@acme.test"}
