"""The audit log filtered by what entries are *about* (SPEC §5 `audit-log/`, §7 "target"):
``?target=key-…`` on the API and "About" on the Activity Log, beside ``key`` (the entries made
with a key). A key's page links to both, for those who read the log. A value that is no public
id is a 400 naming ``target``, never a silent empty list; another tenant's object is an empty
list, as any filter there."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client

from tests.factories import PASSWORD

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def _actions(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [entry["action"] for entry in response.json()["entries"]]


def test_entries_about_a_key_whoever_made_them(api, world):
    member_key = world["member_key"]
    # The member's key renames itself, then makes a key of its own.
    assert (
        api.patch(
            f"/api/v1/keys/{member_key.public_id}/",
            {"name": "renamed"},
            format="json",
            HTTP_X_API_KEY=world["member_raw"],
        ).status_code
        == 200
    )
    made = api.post("/api/v1/keys/", {"name": "child"}, format="json", HTTP_X_API_KEY=world["member_raw"])
    assert made.status_code == 201
    about = _actions(api.get(URL, {"target": member_key.public_id}, HTTP_X_API_KEY=world["owner_raw"]))
    assert "api_key.updated" in about and "api_key.created" in about  # its creation and its rename
    assert all(
        entry["target"]["id"] == member_key.public_id
        for entry in api.get(URL, {"target": member_key.public_id}, HTTP_X_API_KEY=world["owner_raw"]).json()["entries"]
    )
    # What the member's key made is about the child key, not about the member's key.
    child = made.json()["id"]
    assert _actions(api.get(URL, {"target": child}, HTTP_X_API_KEY=world["owner_raw"])) == ["api_key.created"]


def test_target_combines_with_the_other_filters(api, world):
    member_key = world["member_key"]
    api.patch(
        f"/api/v1/keys/{member_key.public_id}/", {"name": "renamed"}, format="json", HTTP_X_API_KEY=world["member_raw"]
    )
    params = {"target": member_key.public_id, "action": "api_key.updated", "key": member_key.public_id}
    assert _actions(api.get(URL, params, HTTP_X_API_KEY=world["owner_raw"])) == ["api_key.updated"]
    params["key"] = world["owner_key"].public_id  # the owner's key changed nothing about it
    assert _actions(api.get(URL, params, HTTP_X_API_KEY=world["owner_raw"])) == []


@pytest.mark.parametrize("value", ["tater_", "key-", "key-not-a-uuid", "12", "a" * 80, "key-x' OR 1=1"])
def test_a_value_that_is_no_public_id_is_a_validation_error(api, world, value):
    r = api.get(URL, {"target": value}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert "target" in body["details"]["fields"]


def test_a_pasted_secret_is_refused_without_echoing_it(api, world):
    r = api.get(URL, {"target": world["member_raw"]}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400
    assert world["member_raw"] not in r.content.decode()


def test_another_tenants_key_is_an_empty_list(api, world):
    assert _actions(api.get(URL, {"target": world["other_key"].public_id}, HTTP_X_API_KEY=world["owner_raw"])) == []


def test_people_and_organizations_are_targets_too(api, world):
    entries = api.get(URL, {"target": world["org1"].public_id}, HTTP_X_API_KEY=world["owner_raw"]).json()["entries"]
    assert entries and all(e["target"]["id"] == world["org1"].public_id for e in entries)


def _signed_in(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_the_activity_log_filters_by_what_entries_are_about(world):
    client = _signed_in(world["owner"])
    member_key = world["member_key"]
    page = client.get("/activity/", {"target": member_key.public_id})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="target"' in text
    assert member_key.public_id in text
    assert "owner key" not in re.sub(r'name="target"[^>]*>', "", text)  # the owner key's creation is not listed
    bad = client.get("/activity/", {"target": "tater_abc"}).content.decode()
    assert "Enter the id of" in bad


def test_a_key_page_links_to_its_activity_for_those_who_read_the_log(world):
    member_key = world["member_key"]
    path = f"/keys/{member_key.public_id}/"
    text = _signed_in(world["owner"]).get(path).content.decode()
    assert f"target={member_key.public_id}" in text  # what happened to the key
    assert f"key={member_key.public_id}" in text  # what was done with it
    viewer_page = _signed_in(world["viewer"]).get(path)
    if viewer_page.status_code == 200:  # viewers read keys but not the audit log (SPEC §1)
        assert f"target={member_key.public_id}" not in viewer_page.content.decode()


def test_an_index_serves_the_filter():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "audit_auditevent")
    assert any(c["index"] and c["columns"] and c["columns"][0] == "target_id" for c in constraints.values())


def test_an_entrys_target_links_to_every_entry_about_it(world):
    member_key = world["member_key"]
    text = _signed_in(world["owner"]).get("/activity/").content.decode()
    assert re.search(
        rf'<a href="/activity/\?[^"]*target={member_key.public_id}[^"]*"[^>]*>{member_key.public_id}</a>', text
    )
