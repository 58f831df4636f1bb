"""What README.md, docs/*.md and clients/python/README.md promise, held against the product
(docs-truth review). Each test names the page it keeps true; the requests and the answers'
shapes are the documents' own examples, so a change on either side shows up here."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.test import Client
from tater_client import RetryPolicy, Tater, TaterError, cli

from apikeys import services as key_services
from tests.factories import PASSWORD, make_key, make_tenant
from tests.operations.test_metrics import Delta


@pytest.fixture
def docworld(db: Any) -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(name="Docs", orgs=1, plan="pro")
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="Contoso full access")
    return {"tenant": tenant, "owner": owner, "org": org, "key": key, "raw": raw}


# --- docs/operations.md "Metrics" -------------------------------------------------------------


def test_seed_paths_key_refusals_are_key_auth_outcomes(docworld: dict[str, Any]) -> None:
    """operations.md: ``tater_key_auth_total{outcome}`` is the catalog code of every API-key
    refusal. The seed systems' paths (SPEC §5a: the same core) answer in their own envelope
    (Tatry's ``{"status": "error", "error": {...}}``, taap.it's ``{"detail"}``), which hid the
    code: a key guessed or replayed there never showed in the metrics."""
    revoked, revoked_raw = make_key(
        user=docworld["owner"], tenant=docworld["tenant"], org=docworld["org"], name="revoked"
    )
    key_services.apikey_revoke(api_key=revoked, actor=docworld["owner"])
    delta = Delta()
    client = Client()
    bad = "tater_" + "0" * 31 + "1"
    assert client.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code == 401
    assert client.get("/v1/workspaces", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code == 401
    assert client.get("/v1/workspaces", HTTP_AUTHORIZATION=f"Bearer {revoked_raw}").status_code == 401
    ok = client.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {docworld['raw']}")
    assert ok.status_code == 200
    assert delta("tater_key_auth_total", outcome="UNAUTHORIZED") == 2
    assert delta("tater_key_auth_total", outcome="KEY_REVOKED") == 1
    assert delta("tater_key_auth_total", outcome="ok") == 1


def test_usage_exhausted_refusals_are_counted_by_their_code(docworld: dict[str, Any]) -> None:
    """operations.md: ``UNKNOWN`` is a 429 *without* a catalog code (the sign-in forms); a
    used-up key's 429 ``USAGE_EXHAUSTED`` has one and was filed as ``UNKNOWN``."""
    _, raw = make_key(
        user=docworld["owner"],
        tenant=docworld["tenant"],
        org=docworld["org"],
        name="trial",
        usage_limit=1,
        usage_refill="monthly",
    )
    delta = Delta()
    client = Client()
    statuses = [client.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code for _ in range(2)]
    assert statuses == [200, 429]
    route = "/api/v1/auth/validate"
    assert delta("tater_rate_limit_refusals_total", code="USAGE_EXHAUSTED", route=route) == 1
    assert delta("tater_rate_limit_refusals_total", code="UNKNOWN", route=route) == 0


# --- clients/python/README.md "Errors" ----------------------------------------------------------

SECRET = "tater_" + "5" * 32


def _client(handler: Any) -> Any:

    return Tater(
        SECRET,
        base_url="http://tater.test",
        allow_insecure_http=True,  # a server on a trusted network that redirects to https://
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(),
    )


def test_client_redirect_is_a_tater_error_not_followed() -> None:
    """ "Every API error is a TaterError" and "Redirects are not followed": a server that
    redirects (http → https in production) made ``validate()`` crash with AttributeError
    (and the CLI with a traceback) instead of an error naming where it points."""

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(301, headers={"Location": "https://tater.test/api/v1/auth/validate"})

    with _client(handler) as tater, pytest.raises(TaterError) as caught:
        tater.validate()
    assert caught.value.code == "REDIRECT" and caught.value.status == 301
    assert "https://tater.test/api/v1/auth/validate" in str(caught.value)
    assert len(seen) == 1  # neither followed nor retried
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_client_non_json_answer_is_a_tater_error() -> None:
    """A proxy's HTML page answered with 200 raised json.JSONDecodeError out of the client."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>captive portal</html>", headers={"Content-Type": "text/html"})

    with _client(handler) as tater, pytest.raises(TaterError) as caught:
        tater.keys.list()
    assert caught.value.code == "INVALID_RESPONSE" and caught.value.status == 200


def test_cli_redirect_exits_1_with_the_message(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """clients/python/README.md: exit 1 when the API refuses, the code and message on stderr
    (never a traceback, never the key)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(308, headers={"Location": "https://tater.test/api/v1/auth/validate"})

    real = cli.Tater
    monkeypatch.setenv("TATER_ALLOW_INSECURE_HTTP", "1")  # plain http:// on a trusted network, redirecting
    monkeypatch.setattr(cli, "Tater", lambda **kw: real(SECRET, transport=httpx.MockTransport(handler), **kw))
    assert cli.main(["--url", "http://tater.test", "validate"]) == 1
    err = capsys.readouterr().err
    assert "REDIRECT" in err and "https://tater.test/" in err
    assert "Traceback" not in err and SECRET not in err


# --- README.md "Try the API" ----------------------------------------------------------------------


def test_readme_create_and_error_examples(docworld: dict[str, Any]) -> None:
    """README: create returns the key once with the header to send it in; errors have the
    catalog shape with the request id, the same id in ``X-Request-ID``."""
    client = Client()
    created = client.post(
        "/api/v1/keys/",
        {"name": "SIEM enrichment", "scopes": ["*:read"]},
        content_type="application/json",
        HTTP_X_API_KEY=docworld["raw"],
    )
    assert created.status_code == 201
    body = created.json()
    assert body["headers"] == {"X-API-Key": body["key"]}
    assert body["notice"].startswith("This is the only time the full key is shown.")
    assert body["id"].startswith("key-") and body["key"].startswith(body["prefix"])
    assert (body["name"], body["type"], body["status"], body["binding"], body["scopes"]) == (
        "SIEM enrichment",
        "standard",
        "active",
        "organization",
        ["*:read"],
    )
    assert body["organization_id"] == docworld["org"].public_id
    assert created["Cache-Control"] == "no-store"

    refused = client.post("/api/v1/keys/", {"name": "x"}, content_type="application/json", HTTP_X_API_KEY=body["key"])
    assert refused.status_code == 403
    error = refused.json()
    assert error["error"] == "PERMISSION_DENIED" and error["message"] == "Missing permission keys:write"
    assert error["details"]["required_permissions"] == ["keys:write"]
    assert "audit:read" in error["details"]["current_permissions"]
    assert error["request_id"] == refused["X-Request-ID"]


# --- docs/accounts.md "Credential exchange", docs/migrating-from-taffy.md ---------------------------


def test_credential_exchange_takes_the_documented_fields(docworld: dict[str, Any]) -> None:
    """The documented body, ``expires_at`` included (the README names it; the pages omitted
    it while saying any other field is a 400), on both paths."""
    org_id = docworld["org"].public_id
    owner = docworld["owner"]
    client = Client()
    core = client.post(
        "/api/v1/auth/token",
        {
            "email": owner.email,
            "password": PASSWORD,
            "organizationId": org_id,
            "name": "nightly export",
            "scopes": ["*:read"],
            "expires_at": "2099-01-01T00:00:00Z",
        },
        content_type="application/json",
    )
    assert core.status_code == 201, core.content
    body = core.json()
    assert body["headers"] == {"X-API-Key": body["key"]} and body["scopes"] == ["*:read"]
    assert body["expires_at"] == "2099-01-01T00:00:00Z" and body["name"] == "nightly export"
    unknown = client.post(
        "/api/v1/auth/token",
        {"email": owner.email, "password": PASSWORD, "unbound": True},
        content_type="application/json",
    )
    assert unknown.status_code == 400 and unknown.json()["details"]["fields"].keys() == {"unbound"}

    taffy = client.post(
        "/auth/token",
        {"username": owner.email, "password": PASSWORD, "organizationId": org_id, "expires_at": "2099-01-01T00:00:00Z"},
        content_type="application/json",
    )
    assert taffy.status_code == 200, taffy.content
    data = taffy.json()
    assert data["errors"] == [] and data["data"]["expires_at"] == "2099-01-01T00:00:00Z"
    assert data["data"]["headers"] == {"X-API-Key": data["data"]["key"]}


# --- docs/orgs-scans-openapi.md "OpenAPI and docs" ------------------------------------------------


@pytest.mark.django_db
def test_openapi_security_schemes_are_the_documented_ones() -> None:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schemes = response.json()["components"]["securitySchemes"]
    assert set(schemes) == {"ApiKeyAuth", "IdPToken", "SessionCookie"}
    assert (schemes["ApiKeyAuth"]["in"], schemes["ApiKeyAuth"]["name"]) == ("header", "X-API-Key")
    assert (schemes["IdPToken"]["scheme"], schemes["IdPToken"]["bearerFormat"]) == ("bearer", "JWT")


# --- docs/accounts.md "JSON API" (GET /api/v1/me), docs/authorization.md "Public keys" ------------


def test_me_admits_standard_and_agent_keys_not_public_ones(docworld: dict[str, Any]) -> None:
    """accounts.md said ``/me`` takes "any key type"; authorization.md's decision (public
    keys read business data only) is what the product does."""
    owner, tenant, org = docworld["owner"], docworld["tenant"], docworld["org"]
    _, agent_raw = make_key(user=owner, tenant=tenant, org=org, name="collector", key_type="agent")
    _, public_raw = make_key(user=owner, tenant=tenant, org=org, name="widget", key_type="public")
    client = Client()
    for raw in (docworld["raw"], agent_raw):
        me = client.get("/api/v1/me", HTTP_X_API_KEY=raw)
        assert me.status_code == 200 and me.json()["authentication"] == "api_key"
        assert set(me.json()) >= {"user", "authentication", "two_factor", "tenants", "organizations", "permissions"}
    refused = client.get("/api/v1/me", HTTP_X_API_KEY=public_raw)
    assert refused.status_code == 403 and refused.json()["error"] == "KEY_TYPE_NOT_ALLOWED"


# --- docs/audit.md "API: GET /api/v1/audit-log/" ------------------------------------------------


def test_audit_log_examples(docworld: dict[str, Any]) -> None:
    """The page's curl examples: newest entries, filters, the next page, the CSV export."""
    client = Client()
    raw, key_id = docworld["raw"], docworld["key"].public_id
    for name in ("a", "b", "c"):
        created = client.post("/api/v1/keys/", {"name": name}, content_type="application/json", HTTP_X_API_KEY=raw)
        assert created.status_code == 201
    page = client.get("/api/v1/audit-log/", {"limit": 2}, HTTP_X_API_KEY=raw).json()
    assert set(page) == {"entries", "next_cursor", "limit"} and page["limit"] == 2 and page["next_cursor"]
    entry = page["entries"][0]
    assert set(entry) == {
        "id", "time", "channel", "action", "actor", "via", "key_id", "target",
        "organization_id", "tenant_id", "changes", "ip", "user_agent", "request_id",
    }  # fmt: skip
    assert (entry["channel"], entry["action"], entry["via"], entry["key_id"]) == (
        "api",
        "api_key.created",
        "api",
        key_id,
    )
    assert set(entry["actor"]) == {"user_id", "email"} and entry["actor"]["user_id"].startswith("usr-")
    filtered = client.get(
        "/api/v1/audit-log/",
        {"channel": "api", "key": key_id, "since": "2026-01-01", "until": "2099-01-31"},
        HTTP_X_API_KEY=raw,
    ).json()
    assert len(filtered["entries"]) == 3
    older = client.get("/api/v1/audit-log/", {"cursor": page["next_cursor"]}, HTTP_X_API_KEY=raw).json()
    assert older["entries"] and older["entries"][0]["id"] not in {e["id"] for e in page["entries"]}
    export = client.get(
        "/api/v1/audit-log/", {"action": "api_key.*", "key": key_id, "format": "csv"}, HTTP_X_API_KEY=raw
    )
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert export["Content-Disposition"].startswith("attachment")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,time,channel,action,") and len(lines) == 4
    numeric = client.get("/api/v1/audit-log/", {"actor": "5"}, HTTP_X_API_KEY=raw)
    assert numeric.status_code == 400 and "actor" in numeric.json()["details"]["fields"]
