"""Session 48 review A: key validation ignored the query parameters it does not read (SPEC §3
"bad body or query: 400 VALIDATION_ERROR, names the failing field"; SPEC §2a "never ignored";
README "unknown ... query parameters are a 400").

``GET /api/v1/auth/validate`` and Tatry's ``GET|POST /v1/auth/validate`` were the only API
endpoints that read no query parameter yet dropped any they were sent, so a misspelt org hint
answered as if it were absent: an unbound key asking ``?organisationId=<org>`` got a 200 about
no org at all, and a Tatry client sending ``?organization_id=`` (the spelling of Tatry's own
answer) was told nothing was wrong, while ``GET /v1/auth/keys?foo=1`` on the same surface is a
400 naming ``foo``. [was failing; fixed]
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import make_key
from tests.surfaces.conftest import bearer, json_of

pytestmark = pytest.mark.django_db


def catalog_400(response: Any, name: str) -> None:
    body = json_of(response, 400)
    assert body["error"] == "VALIDATION_ERROR", body
    assert name in body["details"]["fields"], body


def tatry_400(response: Any, name: str) -> None:
    body = json_of(response, 400)
    assert body["status"] == "error", body
    assert body["error"]["code"] == "validation_error", body
    assert name in body["error"]["details"]["fields"], body


def test_a_misspelt_org_hint_is_not_answered_as_if_absent(api, world):
    _, unbound = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
    r = api.get(f"/api/v1/auth/validate?organisationId={world['org2'].public_id}", HTTP_X_API_KEY=unbound)
    catalog_400(r, "organisationId")


def test_the_core_names_any_other_parameter(api, world):
    catalog_400(api.get("/api/v1/auth/validate?verbose=1", HTTP_X_API_KEY=world["owner_raw"]), "verbose")


@pytest.mark.parametrize("method", ["get", "post"])
def test_tatry_names_the_parameter_in_its_envelope(api, world, method):
    url = f"/v1/auth/validate?organization_id={world['org1'].public_id}"
    tatry_400(getattr(api, method)(url, **bearer(world["owner_raw"])), "organization_id")


def test_the_org_hints_and_format_are_still_read(api, world):
    own = world["org1"].public_id
    tenant = world["tenant"].public_id
    r = api.get(
        f"/api/v1/auth/validate?organizationId={own}&tenantId={tenant}&format=json",
        **{"HTTP_X_API_KEY": world["owner_raw"]},
    )
    assert json_of(r, 200)["organization_id"] == own
    r = api.post(f"/v1/auth/validate?organizationId={own}", **bearer(world["owner_raw"]))
    assert json_of(r, 200)["data"]["organization_id"] == own
