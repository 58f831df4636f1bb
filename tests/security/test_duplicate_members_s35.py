"""A JSON body naming a member twice is refused, never read as its last occurrence.

``{"scopes": ["organizations:read"], "scopes": ["*"]}`` was a full-access key to Python's
parser (the last value wins) while a proxy, a WAF rule or a reviewer reading the first one
saw a read-only request. RFC 8259 leaves such a body's meaning to the parser; I-JSON
(RFC 7493 §2.3) forbids it. Refused with 400 VALIDATION_ERROR naming the member, nothing
changed, on every JSON path (our API, SCIM, the seed systems' paths).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from apikeys.models import ApiKey
from tests.scim.conftest import SCIM, make_directory

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"


def keyed(world: dict[str, Any]) -> dict[str, str]:
    return {"HTTP_X_API_KEY": world["owner_raw"]}


def test_a_key_created_with_scopes_named_twice_is_refused(api, world):
    before = ApiKey.objects.count()
    body = '{"name": "twice", "scopes": ["organizations:read"], "scopes": ["*"]}'
    r = api.post(KEYS, data=body, content_type="application/json", **keyed(world))
    assert r.status_code == 400, r.content
    answer = json.loads(r.content)
    assert answer["error"] == "VALIDATION_ERROR"
    assert "scopes" in answer["message"] and "twice" in answer["message"]
    assert ApiKey.objects.count() == before


def test_a_member_named_twice_deeper_in_the_body_is_refused(api, world):
    body = '{"name": "nested", "metadata": {"team": "a", "team": "b"}}'
    r = api.post(KEYS, data=body, content_type="application/json", **keyed(world))
    assert r.status_code == 400, r.content
    answer = json.loads(r.content)
    assert answer["error"] == "VALIDATION_ERROR" and "team" in answer["message"]
    assert not ApiKey.objects.filter(name="nested").exists()


def test_distinct_members_are_still_accepted(api, world):
    body = '{"name": "once", "scopes": ["organizations:read"]}'
    r = api.post(KEYS, data=body, content_type="application/json", **keyed(world))
    assert r.status_code == 201, r.content


def test_the_seed_token_path_refuses_a_member_named_twice(api, world):
    body = '{"grant_type": "client_credentials", "grant_type": "client_credentials"}'
    r = api.post("/auth/token", data=body, content_type="application/json")
    assert r.status_code == 400, r.content
    assert "grant_type" in r.content.decode() and "twice" in r.content.decode()


def test_scim_refuses_a_member_named_twice(api):
    directory = make_directory("Dup", "dup.test")
    body = '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@dup.test", "userName": "b@dup.test"}'
    r = api.post(
        f"{SCIM}/Users",
        data=body,
        content_type="application/scim+json",
        HTTP_AUTHORIZATION=f"Bearer {directory.secret}",
    )
    assert r.status_code == 400, r.content
    assert "userName" in r.content.decode() and "twice" in r.content.decode()
