"""README "Audit log" decisions / docs/audit.md: the `key` and `target` filters take a public id
in any case, but `actor=USR-…` (the same id as `/me` and `members[].user_id` show it, upper-cased
by a spreadsheet or a copy from a log that upper-cases) was a 400 naming `actor`. Public ids are
case-insensitive in every filter: the upper-cased id finds the same entries, on the API and on
the Activity Log page."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, add_member

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def _admin_who_created_a_key(api, world):
    person = add_member(world["org1"], "admin", UserFactory(email="maker@x.test"))
    api.force_login(person)
    assert api.post("/api/v1/keys/", {"name": "made"}, format="json").status_code == 201
    user_id = api.get("/api/v1/me/").json()["user"]["id"]
    api.logout()
    return user_id


def _entries(api, world, actor):
    return api.get(URL, {"actor": actor, "action": "api_key.created"}, HTTP_X_API_KEY=world["owner_raw"])


def test_an_upper_case_user_id_finds_the_same_entries(api, world):
    user_id = _admin_who_created_a_key(api, world)
    lower = _entries(api, world, user_id)
    assert lower.status_code == 200
    expected = [e["id"] for e in lower.json()["entries"]]
    assert expected
    for spelling in (user_id.upper(), user_id[:4] + user_id[4:].upper(), " " + user_id.upper() + " "):
        answer = _entries(api, world, spelling)
        assert answer.status_code == 200, (spelling, answer.content)
        assert [e["id"] for e in answer.json()["entries"]] == expected


def test_the_activity_log_page_takes_it_too(api, client, world):
    user_id = _admin_who_created_a_key(api, world)
    client.force_login(world["owner"])
    page = client.get("/activity/", {"actor": user_id.upper(), "action": "api_key.created"})
    assert page.status_code == 200
    assert "Enter an email address or a user id" not in page.content.decode()
    lower = client.get("/activity/", {"actor": user_id, "action": "api_key.created"})
    assert page.content.decode().count("made") == lower.content.decode().count("made") > 0


def test_a_malformed_id_is_still_refused(api, world):
    answer = _entries(api, world, "USR-NOT-AN-ID")
    assert answer.status_code == 400
    assert "actor" in answer.json()["details"]["fields"]
