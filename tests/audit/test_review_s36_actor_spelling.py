"""The Activity Log's actor filter finds a person whatever spelling of their address it is
given (SPEC §8: emails are compared after NFKC normalisation and case folding): the API,
the Activity Log page and its CSV export."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, add_member

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db

# Spellings SPEC §8 makes one address: ß case-folds to "ss", fullwidth letters NFKC to ASCII.
SHARP = "straße@x.test"
PLAIN = "strasse@x.test"
SPELLINGS = ("STRASSE@x.test", "Straße@X.test", "ｓｔｒａｓｓｅ@x.test", "strasse@x.test", "straße@x.test")


def _person_with_a_key_created(api, world, email):
    """``email`` is an admin of org1 who creates a key over the API (an entry naming them)."""
    person = add_member(world["org1"], "admin", UserFactory(email=email))
    api.force_login(person)
    assert api.post("/api/v1/keys/", {"name": f"key of {email}"}, format="json").status_code == 201
    api.logout()
    return person


def _actors(api, world, actor):
    r = api.get(URL, {"actor": actor, "action": "api_key.created"}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    return {e["actor"]["email"] for e in r.json()["entries"]}


@pytest.mark.parametrize("stored", [SHARP, PLAIN])
def test_api_actor_filter_finds_the_person_whatever_the_spelling(api, world, stored):
    _person_with_a_key_created(api, world, stored)
    for spelling in SPELLINGS:
        assert _actors(api, world, spelling) == {stored}, spelling


def test_api_actor_filter_does_not_widen_to_other_people(api, world):
    _person_with_a_key_created(api, world, SHARP)
    assert _actors(api, world, "strase@x.test") == set()
    assert _actors(api, world, "strasse@y.test") == set()


def test_activity_page_and_export_find_the_person(client, world):
    from django.test import Client

    helper = Client()
    person = add_member(world["org1"], "admin", UserFactory(email=SHARP))
    helper.force_login(person)
    assert helper.post("/api/v1/keys/", {"name": "page key"}, content_type="application/json").status_code == 201
    client.force_login(world["owner"])
    page = client.get("/activity/", {"actor": "ＳＴＲＡＳＳＥ@x.test", "action": "api_key.created"})
    assert page.status_code == 200
    assert "page key" in page.content.decode()
    export = client.get("/activity/export.csv", {"actor": "STRASSE@X.TEST", "action": "api_key.created"})
    assert export.status_code == 200
    body = b"".join(export.streaming_content).decode()
    assert SHARP in body and "page key" in body
