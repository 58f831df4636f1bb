"""Found by an integrator's review (2026-12-04), expectations from SPEC §2a, §3, §4, §5a, §6:

- the credential exchange refused with AMBIGUOUS_ORG, naming ``organizationId``, then
  ignored that very query parameter (and ``X-Workspace-ID``): only a body field worked;
- revoke and deactivate did what they were asked with an unknown field or a malformed body
  (``{"reason": ...}`` silently dropped), and the JSON sign-in dropped unknown fields
  (an ``otp`` sent with the password seemed checked);
- Tatry's SDK could not parse validate's answer for an unbound key (``organization_id``
  null where SPEC §4 resolves a single-org tenant's only org);
- a session's 400 AMBIGUOUS_ORG carried no X-RateLimit-* headers.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, make_key, make_tenant

pytestmark = pytest.mark.django_db

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _catalog(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:400])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["error"] == code, body
    return body


# --- SPEC §3/§4 + §5: the credential exchange ignores the org hint its own error asks for -------


@pytest.mark.parametrize(
    "path,user_field",
    [("/api/v1/auth/token", "email"), ("/auth/token", "username")],
    ids=["core", "taffy"],
)
@pytest.mark.parametrize("hint_in", ["query", "header"])
def test_token_exchange_honours_the_org_hint_that_ambiguous_org_names(
    world: dict[str, Any], path: str, user_field: str, hint_in: str
) -> None:
    """SPEC §3: AMBIGUOUS_ORG "names the organizationId parameter"; §4: the hint is the
    ``organizationId`` query parameter or ``X-Workspace-ID``, and "Session users pick the org the
    same way". The owner of a two-org tenant exchanges credentials; the 400 says "pass the
    organizationId query parameter (or the X-Workspace-ID header)". Doing exactly that must work."""
    org = world["org2"].public_id
    body = {user_field: world["owner"].email, "password": PASSWORD}
    client = APIClient()
    first = client.post(path, body, format="json")
    assert first.status_code == 400, first.content
    assert "organizationId" in first.content.decode()  # the advice the caller then follows
    if hint_in == "query":
        response = client.post(f"{path}?organizationId={org}", body, format="json")
    else:
        response = client.post(path, body, format="json", HTTP_X_WORKSPACE_ID=org)
    assert response.status_code in (200, 201), response.content[:400]
    data = response.json()
    data = data.get("data", data)  # Taffy's envelope
    assert data["organization_id"] == org


# --- SPEC §2a/§3: a body is never silently ignored ------------------------------------------------


@pytest.mark.parametrize("action", ["revoke", "deactivate"])
def test_key_actions_refuse_unknown_body_fields(world: dict[str, Any], action: str) -> None:
    """SPEC §2a: "Unknown or read-only fields in a body are a 400 VALIDATION_ERROR, never
    ignored." An integrator posting ``{"reason": ..., "notify": false}`` to revoke gets the key
    revoked and the fields dropped without a word (rotate refuses the same body with 400)."""
    victim, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="victim")
    response = APIClient().post(
        f"/api/v1/keys/{victim.public_id}/{action}/",
        {"reason": "compromised", "notify": False},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    body = _catalog(response, 400, "VALIDATION_ERROR")
    assert set(body["details"]["fields"]) >= {"notify"}
    victim.refresh_from_db()
    assert victim.revoked_at is None and victim.is_active


@pytest.mark.parametrize("action", ["revoke", "deactivate"])
def test_key_actions_refuse_a_malformed_body(world: dict[str, Any], action: str) -> None:
    """SPEC §3: "bad body or query | 400 | VALIDATION_ERROR". A truncated JSON body on revoke or
    deactivate is answered 200 and the action done."""
    victim, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="victim")
    response = APIClient().post(
        f"/api/v1/keys/{victim.public_id}/{action}/",
        data='{"reason": "oops',
        content_type="application/json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    _catalog(response, 400, "VALIDATION_ERROR")
    victim.refresh_from_db()
    assert victim.revoked_at is None and victim.is_active


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/auth/login"])
def test_login_refuses_unknown_fields(world: dict[str, Any], path: str) -> None:
    """SPEC §2a/§3 (unknown body fields are a 400 VALIDATION_ERROR, never ignored); the
    credential exchange already refuses them. The JSON sign-in (core and TigerTrust's path)
    signs the user in and drops ``remember_me``/``otp`` silently: a client sending its OTP as
    ``otp`` believes it was checked."""
    response = APIClient().post(
        path,
        {"email": world["member"].email, "password": PASSWORD, "otp": "123456"},
        format="json",
    )
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR" and "otp" in body["details"]["fields"], body


# --- SPEC §5a Tatry: the published SDK with an unbound key ----------------------------------------


def test_tatry_sdk_validates_an_unbound_key_of_a_single_org_tenant() -> None:
    """SPEC §5a: "Tatry's published Python SDK (tatry on PyPI) works unmodified"; validate's data
    has ``organization_id``; SPEC §4: "with no hint, a single-org tenant uses its only org".
    The SDK's ``validate_api_key()`` parses the answer with its own model, where
    ``organization_id`` is a required string: an unbound key (tenant owner's) of a one-org tenant
    answers ``organization_id: null`` and the SDK raises instead of returning."""
    from tatry.models.auth import ValidateResponse

    tenant, owner, (only_org,) = make_tenant(name="Solo", orgs=1)
    _, raw = make_key(user=owner, tenant=tenant, org=None, name="tenant-wide")
    # What TatryRetriever.validate_api_key() sends: POST /v1/auth/validate, Bearer, JSON.
    response = APIClient().post(
        "/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {raw}", content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["organization_id"] == only_org.public_id, response.json()["data"]
    ValidateResponse.model_validate(response.json())  # what the SDK does with it


# --- SPEC §6: X-RateLimit-* on every API response --------------------------------------------------


def test_session_error_responses_carry_rate_limit_headers(world: dict[str, Any]) -> None:
    """SPEC §6: "Every API response carries X-RateLimit-Limit, X-RateLimit-Remaining,
    X-RateLimit-Reset" (per user for sessions). A signed-in owner of a two-org tenant gets a 400
    AMBIGUOUS_ORG without them, while the same 400 to an API key carries them."""
    client = APIClient()
    client.force_login(world["owner"])
    assert all(h in client.get("/api/v1/me/") for h in RATE_HEADERS)  # the session is rate-accounted
    response = client.get("/api/v1/keys/")
    _catalog(response, 400, "AMBIGUOUS_ORG")
    missing = [h for h in RATE_HEADERS if h not in response]
    assert not missing, f"missing {missing}"


def test_tatry_validate_of_an_unbound_key_in_a_multi_org_tenant_needs_a_hint(world: dict[str, Any]) -> None:
    """SPEC §4: a multi-org tenant's unbound key without a hint is 400 AMBIGUOUS_ORG (in
    Tatry's format), never a null organization the SDK cannot parse; with a hint, that org."""
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    refused = APIClient().post("/v1/auth/validate", content_type="application/json", **bearer)
    assert refused.status_code == 400, refused.content
    assert refused.json()["error"]["details"]["tater_error"] == "AMBIGUOUS_ORG"
    org = world["org2"].public_id
    hinted = APIClient().post(f"/v1/auth/validate?organizationId={org}", content_type="application/json", **bearer)
    assert hinted.status_code == 200, hinted.content
    assert hinted.json()["data"]["organization_id"] == org


def test_token_exchange_refuses_two_hints_that_disagree(world: dict[str, Any]) -> None:
    body = {"email": world["owner"].email, "password": PASSWORD, "organizationId": world["org1"].public_id}
    response = APIClient().post(f"/api/v1/auth/token?organizationId={world['org2'].public_id}", body, format="json")
    _catalog(response, 400, "VALIDATION_ERROR")
    assert "organizationId" in response.json()["details"]["fields"]
