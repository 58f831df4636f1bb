"""SPEC §2a/§3 (README: a query parameter an endpoint does not read is a 400 naming it, never
dropped): the sign-in and credential-exchange endpoints read their body only. A script that
puts the exchange's fields in the query (``?scopes=scans:read``) must not get a key with the
caller's full permissions as if it had asked for nothing; it gets a 400 naming the field,
and nothing is created."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR"
    assert field in r.json()["details"]["fields"]


def test_the_exchange_refuses_its_fields_in_the_query(api: APIClient, world: dict[str, Any]) -> None:
    before = ApiKey.objects.count()
    org = world["org1"].public_id
    r = api.post(
        f"/api/v1/auth/token?organizationId={org}&scopes=scans:read",
        {"email": world["owner"].email, "password": PASSWORD},
        format="json",
    )
    _refused(r, "scopes")
    assert ApiKey.objects.count() == before
    # The org hint in the query is read, as on every endpoint (SPEC §4).
    r = api.post(
        f"/api/v1/auth/token?organizationId={org}", {"email": world["owner"].email, "password": PASSWORD}, format="json"
    )
    assert r.status_code == 201 and r.json()["organization_id"] == org


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/verify-2fa"), ("post", "/api/v1/auth/webauthn/options")],
)
def test_the_sign_in_endpoints_refuse_a_query_they_do_not_read(api: APIClient, method: str, path: str) -> None:
    r = getattr(api, method)(f"{path}?remember=1", {}, format="json")
    _refused(r, "remember")


def test_logout_refuses_a_query_it_does_not_read_and_keeps_the_session(api: APIClient, world: dict[str, Any]) -> None:
    api.force_login(world["owner"])
    r = api.post("/api/v1/auth/logout?everywhere=1", {}, format="json")
    _refused(r, "everywhere")
    assert api.get("/api/v1/me").status_code == 200


def test_me_refuses_a_query_it_does_not_read(api: APIClient, world: dict[str, Any]) -> None:
    api.force_login(world["owner"])
    _refused(api.get("/api/v1/me?expand=keys"), "expand")
    assert api.get(f"/api/v1/me?organizationId={world['org1'].public_id}").status_code == 200
