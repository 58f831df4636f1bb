"""The audit log's `key` filter (SPEC §3, §5, §7): it names the key that *acted* (the entries
made with it). A value that is no key id (the key's secret pasted, its display prefix, a
typo) is a 400 `VALIDATION_ERROR` naming `key`, not a silent empty list, and never echoes a
secret back. The Activity Log labels the field for what it does."""

from __future__ import annotations

import re

import pytest

from tests.factories import make_key

URL = "/api/v1/audit-log/"
PAGE = "/activity/"
pytestmark = pytest.mark.django_db


def _get(api, raw, **params):
    return api.get(URL, params, HTTP_X_API_KEY=raw)


def _made_with_key(api, world):
    made = api.post("/api/v1/keys/", {"name": "made by owner key"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert made.status_code == 201
    return made.json()


@pytest.mark.parametrize(
    "value",
    [
        "tater_",  # a prefix, as the key list shows it
        "key-",
        "key-not-a-uuid",
        "usr-00000000-0000-0000-0000-000000000000",
        "12",
        "key-00000000-0000-0000-0000-00000000000G",
    ],
)
def test_a_value_that_is_no_key_id_is_a_validation_error(api, world, value):
    r = _get(api, world["owner_raw"], key=value)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert "key" in body["details"]["fields"]
    assert "key-" in body["message"]


def test_a_pasted_secret_is_refused_without_echoing_it(api, world):
    r = _get(api, world["owner_raw"], key=world["member_raw"])
    assert r.status_code == 400
    assert r.json()["error"] == "VALIDATION_ERROR"
    assert world["member_raw"] not in r.content.decode()
    # The display prefix (what the key list shows) is no id either.
    r = _get(api, world["owner_raw"], key=world["member_key"].display_prefix)
    assert r.status_code == 400


def test_key_ids_of_either_case_and_scim_token_ids_are_accepted(api, world):
    created = _made_with_key(api, world)
    key_id = world["owner_key"].public_id
    for value in (key_id, key_id.upper().replace("KEY-", "key-"), f"  {key_id} "):
        r = _get(api, world["owner_raw"], key=value)
        assert r.status_code == 200, value
        assert created["id"] in [e["target"]["id"] for e in r.json()["entries"] if e["target"]], value
    r = _get(api, world["owner_raw"], key="scimtoken-00000000-0000-0000-0000-000000000000")
    assert r.status_code == 200
    assert r.json()["entries"] == []


def test_key_means_made_with_it_not_about_it(api, world):
    # The member key acted on nothing; the owner key created a key. Filtering by the new
    # key's id finds nothing: the new key has not acted yet.
    created = _made_with_key(api, world)
    r = _get(api, world["owner_raw"], key=created["id"])
    assert r.status_code == 200
    assert r.json()["entries"] == []
    other = _get(api, world["owner_raw"], key=world["other_key"].public_id)
    assert other.status_code == 200
    assert other.json()["entries"] == []  # another tenant's key: nothing, no oracle


def test_activity_log_labels_the_key_filter_for_what_it_does(client, world):
    client.force_login(world["admin"])
    html = client.get(PAGE).content.decode()
    label = re.search(r'<label for="id_key">([^<]*)</label>', html)
    assert label is not None
    assert label.group(1).strip() == "Made with API key"
    assert 'placeholder="key-…"' in html


def test_activity_log_reports_a_pasted_secret_as_a_form_error(client, world):
    _, raw = make_key(user=world["admin"], tenant=world["tenant"], org=world["org1"], name="pasted")
    client.force_login(world["admin"])
    r = client.get(PAGE, {"key": raw})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="id_key_error"' in html
    assert "Enter the id of an API key (key-…)" in html
