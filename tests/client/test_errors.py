"""The error catalog (SPEC §3) as the client's exceptions, from the live server's answers."""

from __future__ import annotations

import socket

import pytest
from tater_client import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    Tater,
    TaterError,
    TransportError,
    ValidationError,
)


def test_validate(tater, acme):
    info = tater.validate()
    assert info.valid and info.id == acme.owner_key.public_id
    assert (info.type, info.binding, info.name) == ("standard", "organization", "owner key")
    assert (info.organization_id, info.tenant_id) == (acme.org.public_id, acme.tenant.public_id)
    assert "keys:write" in info.permissions and info.prefix == acme.owner_raw[:10]
    assert tater.last_rate_limit is not None and tater.last_rate_limit.limit == 1000


@pytest.mark.parametrize(
    "raw",
    ["tater_" + "0" * 32, "not-a-key"],
    ids=["unknown", "malformed"],
)
def test_a_bad_key_is_an_authentication_error(connect, raw):
    with pytest.raises(AuthenticationError) as caught:
        connect(raw).keys.list()
    error = caught.value
    assert (error.status, error.code, error.message) == (401, "UNAUTHORIZED", "Invalid token")
    assert isinstance(error, TaterError) and error.request_id
    assert error.request_id == error.headers["X-Request-ID"]
    assert "UNAUTHORIZED: Invalid token" in str(error) and error.request_id in str(error)


def test_a_missing_scope_is_permission_denied_with_the_permissions(acme, connect):
    _, raw = acme.key(scopes=["scans:read"])
    with pytest.raises(PermissionDenied) as caught:
        connect(raw).keys.create("nope")
    error = caught.value
    assert (error.status, error.code) == (403, "PERMISSION_DENIED")
    assert error.required_permissions == ["keys:write"]
    assert error.details["required_permissions"] == ["keys:write"]
    assert "scans:read" in error.current_permissions


def test_a_foreign_org_hint_is_workspace_access_denied(tater, acme):
    with pytest.raises(PermissionDenied) as caught:
        tater.scans.list(organization_id=acme.other_org.public_id)
    assert caught.value.code == "WORKSPACE_ACCESS_DENIED"


def test_validation_errors_carry_the_fields(tater):
    with pytest.raises(ValidationError) as caught:
        tater.keys.create("", scopes=["spaceships:write"])
    error = caught.value
    assert (error.status, error.code) == (400, "VALIDATION_ERROR")
    assert set(error.fields) == {"name", "scopes"}
    assert all(messages and isinstance(messages[0], str) for messages in error.fields.values())
    with pytest.raises(ValidationError) as caught:
        tater.keys.list(limit=0)
    assert list(caught.value.fields) == ["limit"]


def test_unknown_ids_are_not_found(tater):
    with pytest.raises(NotFound) as caught:
        tater.keys.get("key-00000000-0000-0000-0000-000000000000")
    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    with pytest.raises(NotFound):
        tater.scans.get("scan-00000000-0000-0000-0000-000000000000")


def test_any_endpoint_through_request(tater, acme):
    orgs = tater.request("GET", "/organizations/")
    assert acme.org.public_id in str(orgs)


def test_a_dead_server_is_a_transport_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        client = Tater("tater_" + "0" * 32, base_url=f"http://127.0.0.1:{port}", retry=RetryPolicy(backoff=0.01))
        with client, pytest.raises(TransportError) as caught:
            client.validate()
    assert caught.value.code == "CONNECTION_ERROR" and caught.value.status is None


def test_the_client_needs_a_key(monkeypatch):
    monkeypatch.delenv("TATER_API_KEY", raising=False)
    with pytest.raises(ValueError, match="TATER_API_KEY"):
        Tater()


def test_the_client_reads_its_environment(monkeypatch, acme):
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    monkeypatch.setenv("TATER_URL", acme.url + "/api/v1/")
    with Tater() as client:
        assert client.base_url == acme.url
        assert client.validate().id == acme.owner_key.public_id
        assert acme.owner_raw not in repr(client)
