"""SCIM tokens are rate limited like API keys (README "Decisions": SCIM limits): per token,
``TATER_SCIM_RATE_LIMITS`` (per minute, rolling; per hour), 429 in SCIM's error format with
``Retry-After``, and every answer says where the token stands (``X-RateLimit-*``)."""

from __future__ import annotations

import pytest

from tests.scim.conftest import make_directory

pytestmark = pytest.mark.django_db


def test_a_token_past_its_limit_gets_429_in_scims_format(acme, settings):
    settings.TATER_SCIM_RATE_LIMITS = (3, 100)
    answers = [acme.scim.get("/Users") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a["X-RateLimit-Limit"] for a in answers} == {"3"}
    refused = answers[-1]
    body = refused.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == "429"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused["Content-Type"].startswith("application/scim+json")


def test_limits_are_per_token(acme, settings):
    settings.TATER_SCIM_RATE_LIMITS = (2, 100)
    other = make_directory("Initech", "initech.test")
    assert [acme.scim.get("/Users").status_code for _ in range(3)] == [200, 200, 429]
    assert other.scim.get("/Users").status_code == 200  # another tenant's IdP is not slowed down


def test_a_refused_write_changes_nothing(acme, settings):
    settings.TATER_SCIM_RATE_LIMITS = (1, 100)
    assert acme.scim.get("/Users").status_code == 200
    created = acme.scim.post(
        "/Users",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "late@acme.test",
            "emails": [{"value": "late@acme.test", "primary": True}],
        },
    )
    assert created.status_code == 429
    settings.TATER_SCIM_RATE_LIMITS = (100, 1000)
    found = acme.scim.get('/Users?filter=userName eq "late@acme.test"').json()
    assert found["totalResults"] == 0


def test_unauthenticated_requests_are_not_counted_against_a_token(acme, settings):
    settings.TATER_SCIM_RATE_LIMITS = (2, 100)
    anonymous = acme.scim.client.get("/scim/v2/Users")
    assert anonymous.status_code == 401
    assert [acme.scim.get("/Users").status_code for _ in range(2)] == [200, 200]
