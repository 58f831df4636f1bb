"""Review s45: one exception class per catalog code (SPEC §3), under the family classes the
client had. Before, ``KEY_REVOKED`` and a mistyped key were both a bare
``AuthenticationError``, ``LOCKED_OUT`` a ``RateLimited`` like a rate limit, and 405/413 a
bare ``TaterError``: an integrator wanting to page someone on a revoked key, or to split an
upload that is too large, compared ``exc.code`` strings by hand. Each keeps the code, the
message and the request id; catching the family still works.
"""

from __future__ import annotations

import httpx
import pytest
import tater_client as tc
from tater_client import RetryPolicy, Tater

CATALOG = [
    (401, "UNAUTHORIZED", tc.AuthenticationError, tc.AuthenticationError),
    (401, "KEY_REVOKED", tc.KeyRevoked, tc.AuthenticationError),
    (401, "KEY_EXPIRED", tc.KeyExpired, tc.AuthenticationError),
    (401, "KEY_INACTIVE", tc.KeyInactive, tc.AuthenticationError),
    (400, "AMBIGUOUS_ORG", tc.AmbiguousOrg, tc.ValidationError),
    (400, "VALIDATION_ERROR", tc.ValidationError, tc.ValidationError),
    (403, "WORKSPACE_ACCESS_DENIED", tc.WorkspaceAccessDenied, tc.PermissionDenied),
    (403, "IP_NOT_ALLOWED", tc.IpNotAllowed, tc.PermissionDenied),
    (403, "PERMISSION_DENIED", tc.PermissionDenied, tc.PermissionDenied),
    (403, "KEY_TYPE_NOT_ALLOWED", tc.KeyTypeNotAllowed, tc.PermissionDenied),
    (429, "RATE_LIMITED", tc.RateLimited, tc.RateLimited),
    (429, "LOCKED_OUT", tc.LockedOut, tc.RateLimited),
    (429, "USAGE_EXHAUSTED", tc.UsageExhausted, tc.RateLimited),
    (404, "NOT_FOUND", tc.NotFound, tc.NotFound),
    (405, "METHOD_NOT_ALLOWED", tc.MethodNotAllowed, tc.TaterError),
    (413, "PAYLOAD_TOO_LARGE", tc.PayloadTooLarge, tc.TaterError),
    (500, "INTERNAL_ERROR", tc.ServerError, tc.ServerError),
    (503, "SERVICE_UNAVAILABLE", tc.ServiceUnavailable, tc.ServerError),
]


@pytest.mark.parametrize(("status", "code", "cls", "family"), CATALOG, ids=[c[1] for c in CATALOG])
def test_each_catalog_code_has_its_class(status, code, cls, family):
    raw = "tater_" + "cd" * 16

    def respond(request: httpx.Request) -> httpx.Response:
        body = {"error": code, "message": f"the {code} message", "details": {}, "request_id": "req-1"}
        return httpx.Response(status, json=body, headers={"X-Request-ID": "req-1"})

    transport = httpx.MockTransport(respond)
    with Tater(raw, base_url="https://t.example", transport=transport, retry=RetryPolicy.disabled()) as tater:
        with pytest.raises(family) as caught:
            tater.keys.list()
    error = caught.value
    assert type(error) is cls
    assert (error.status, error.code, error.message, error.request_id) == (status, code, f"the {code} message", "req-1")


def test_the_live_server_answers_them(acme, connect):
    key, raw = acme.key(scopes=["keys:read"])
    client = connect(raw)
    with pytest.raises(tc.WorkspaceAccessDenied) as denied:
        client.keys.list(organization_id=acme.other_org.public_id)
    assert denied.value.request_id
    with pytest.raises(tc.MethodNotAllowed):
        client.request("DELETE", "/keys/")
    connect().keys.deactivate(key.public_id)
    with pytest.raises(tc.KeyInactive):
        client.validate()
    connect().keys.revoke(key.public_id)
    with pytest.raises(tc.KeyRevoked) as revoked:
        client.validate()
    assert revoked.value.message == "API key has been revoked" and revoked.value.request_id


def test_an_expired_key_says_when():
    raw = "tater_" + "ef" * 16

    def respond(request: httpx.Request) -> httpx.Response:
        body = {
            "error": "KEY_EXPIRED",
            "message": "API key has expired",
            "details": {"expired_at": "2026-01-02T03:04:05Z"},
        }
        return httpx.Response(401, json=body)

    transport = httpx.MockTransport(respond)
    with Tater(raw, base_url="https://t.example", transport=transport, retry=RetryPolicy.disabled()) as tater:
        with pytest.raises(tc.KeyExpired) as caught:
            tater.validate()
    assert caught.value.expired_at is not None and caught.value.expired_at.isoformat() == "2026-01-02T03:04:05+00:00"
