"""The same key as ``X-API-Key`` and as ``Authorization: Bearer`` on the seed paths (SPEC §3:
the seed paths admit ``Bearer <key>`` always, as ``/api/v1/`` does with bearer keys enabled).

A Tatry or taap.it integrator who adds Tater's canonical header while the client still sends
the document's ``Authorization: Bearer <key>`` sends one credential twice: it is answered as
that key, as ``/api/v1/`` answers the same pair when bearer keys are admitted, and as the seed
paths answer the key under ``X-API-Key`` and its alias. Two *different* values stay refused:
neither is guessed to be the one meant. Expectations come from the SPEC."""

from __future__ import annotations

import pytest
from django.test import override_settings

from apikeys import services
from tests.surfaces.conftest import bearer, json_of

pytestmark = pytest.mark.django_db
KEY_PATHS = ("/v1/auth/validate", "/v1/validate", "/v1/auth/keys", "/v1/workspaces")


def test_the_core_admits_the_pair_when_bearer_keys_are_admitted(api, world):
    """The reference: /api/v1/ with bearer keys enabled takes the pair as one credential."""
    raw = world["owner_raw"]
    with override_settings(TATER_ALLOW_BEARER_KEYS=True):
        response = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw, **bearer(raw))
    assert json_of(response, 200)["id"] == world["owner_key"].public_id


@pytest.mark.parametrize("path", KEY_PATHS)
def test_the_same_key_under_both_headers_is_one_credential(api, world, path):
    raw = world["owner_raw"]
    alone = api.get(path, **bearer(raw))
    both = api.get(path, HTTP_X_API_KEY=raw, **bearer(raw))
    assert both.status_code == alone.status_code == 200, both.content
    assert json_of(both, 200) is not None


@pytest.mark.parametrize("path", KEY_PATHS)
def test_a_revoked_key_under_both_headers_is_still_revoked(api, world, path):
    raw = world["owner_raw"]
    services.apikey_revoke(api_key=world["owner_key"], actor=world["owner"])
    response = api.get(path, HTTP_X_API_KEY=raw, **bearer(raw))
    assert response.status_code == 401
    assert "revoked" in response.content.decode().lower()


@pytest.mark.parametrize("path", KEY_PATHS)
def test_two_different_keys_stay_refused(api, world, path):
    response = api.get(path, HTTP_X_API_KEY=world["owner_raw"], **bearer(world["member_raw"]))
    assert response.status_code == 401, response.content
    assert world["owner_key"].public_id not in response.content.decode()
    assert world["member_key"].public_id not in response.content.decode()
