"""SPEC §4/§5, §5a (Taffy): a credential exchange by someone in several orgs that names none
is a 400 AMBIGUOUS_ORG. The exchange takes the org in its body (``organizationId``), as a
script posting JSON or a form naturally sends it: the message says so, not only the query
parameter and header every GET names."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_core_exchange_names_the_body_field(api: APIClient, world: dict[str, Any]) -> None:
    r = api.post("/api/v1/auth/token", {"email": world["owner"].email, "password": PASSWORD}, format="json")
    assert (r.status_code, r.json()["error"]) == (400, "AMBIGUOUS_ORG")
    assert "organizationId" in r.json()["message"] and "body" in r.json()["message"]
    assert r.json()["details"]["parameter"] == "organizationId"
    # Named in the body as the message says: a key for that org.
    r = api.post(
        "/api/v1/auth/token",
        {"email": world["owner"].email, "password": PASSWORD, "organizationId": world["org2"].public_id},
        format="json",
    )
    assert r.status_code == 201 and r.json()["organization_id"] == world["org2"].public_id


def test_taffys_exchange_names_the_body_field(api: APIClient, world: dict[str, Any]) -> None:
    r = api.post("/auth/token", {"username": world["owner"].email, "password": PASSWORD}, format="json")
    assert r.status_code == 400 and r.json()["data"] is None
    (message,) = r.json()["errors"]
    assert "organizationId" in message and "body" in message
