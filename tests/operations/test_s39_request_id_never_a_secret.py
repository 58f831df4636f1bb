"""SPEC §2 ("a key never appears in logs, admin, audit entries or error bodies") and §12 (no
secret ever appears in the logs). A client-chosen ``X-Request-ID`` is kept for correlation,
and it was kept whatever it held: a key pasted into the wrong header (or sent there on
purpose) was echoed in the response header, the error body's ``request_id``, every log line
of the request and the audit entries it wrote. An id that reads as a secret (a key, a SCIM
token, a mixed-case opaque token, a JWT) is replaced by one of ours; ordinary ids (a UUID,
a W3C trace id, ``abc-123``) are kept.
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
KEYLIKE = "tater_" + "3fd88c926edd3a6f66a925de7df4cfe4"


@pytest.mark.parametrize(
    "incoming",
    [
        KEYLIKE,
        "ak_" + "0" * 31 + "1",
        "scim_" + "ab" * 16,
        "q8Hs2KdL0pZ4xVbN7mWcR1tY",  # secrets.token_urlsafe-like
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl",
        f"req.{KEYLIKE}",
    ],
)
def test_an_id_that_reads_as_a_secret_is_never_echoed(incoming, caplog):
    caplog.set_level(logging.INFO)
    r = Client().get("/api/v1/auth/validate", HTTP_X_REQUEST_ID=incoming, HTTP_X_API_KEY="tater_" + "0" * 32)
    assert r.status_code == 401
    assert r["X-Request-ID"] != incoming and incoming not in r.content.decode()
    assert r.json()["request_id"] == r["X-Request-ID"]
    assert incoming not in caplog.text


@pytest.mark.parametrize(
    "incoming",
    [
        "4b427b78-7fda-4be4-8dde-ad4051db33cf",  # a UUID (Heroku, nginx with a UUID module)
        "60eb1f1891a547d0b49742245bbf056d",  # nginx $request_id, a W3C trace id
        "abc-123-def-456",
        "lb.node-7.000042",
    ],
)
def test_ordinary_ids_are_kept(incoming):
    r = Client().get("/api/v1/health", HTTP_X_REQUEST_ID=incoming)
    assert r["X-Request-ID"] == incoming


def test_an_audit_entry_never_carries_a_key_as_its_request_id(api, world):
    key = world["owner_key"]
    r = api.post(
        f"/api/v1/keys/{key.public_id}/deactivate/", HTTP_X_API_KEY=world["owner_raw"], HTTP_X_REQUEST_ID=KEYLIKE
    )
    assert r.status_code == 200, r.content
    entry = AuditEvent.objects.filter(action="api_key.deactivated").latest("id")
    assert entry.request_id and entry.request_id != KEYLIKE
