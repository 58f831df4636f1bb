"""Credentials for the API matrices: sessions of each role and each kind of key.

Import the fixture into a test module: ``from tests.orgs.api_world import creds  # noqa: F401``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orgs.access import SESSION_ORG_KEY
from orgs.models import Invitation
from scans import services as scan_services
from tests.factories import add_member, make_key

SCAN_BODY = {
    "scanner": "nmap",
    "target": "10.0.0.0/24",
    "started_at": "2026-01-15T09:30:00Z",
    "findings": [{"title": "Telnet open", "severity": "high", "port": 23}],
}

SESSIONS = ("owner_session", "admin_session", "member_session", "viewer_session")
KEYS = ("org_key", "unbound_key", "unbound_key_with_org", "read_only_key", "agent_key", "public_key")
CREDENTIALS = SESSIONS + KEYS


@dataclass
class Caller:
    """One credential: an APIClient plus the query params it adds (organizationId for the
    unbound key "with org")."""

    client: APIClient
    params: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        query = "&".join(f"{k}={v}" for k, v in self.params.items())
        url = f"{path}{'&' if '?' in path else '?'}{query}" if query else path
        return (
            getattr(self.client, method.lower())(url, body, format="json")
            if body is not None
            else getattr(self.client, method.lower())(url)
        )


@pytest.fixture
def creds(world: dict[str, Any]) -> dict[str, Any]:
    """``world`` plus a Caller per credential, a target viewer and a scan in org1."""
    tenant, org1, owner = world["tenant"], world["org1"], world["owner"]
    callers: dict[str, Caller] = {}
    for name, user in (
        ("owner_session", owner),
        ("admin_session", world["admin"]),
        ("member_session", world["member"]),
        ("viewer_session", world["viewer"]),
    ):
        client = APIClient()
        client.force_login(user)
        session = client.session
        session[SESSION_ORG_KEY] = org1.public_id  # as the UI's org switcher does
        session.save()
        callers[name] = Caller(client)

    def key_client(raw: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    _, unbound_raw = make_key(user=owner, tenant=tenant, org=None, name="cron")
    _, read_only_raw = make_key(user=owner, tenant=tenant, org=org1, name="ro", scopes=["*:read"])
    agent_key, agent_raw = make_key(user=owner, tenant=tenant, org=org1, name="agent", key_type="agent")
    _, public_raw = make_key(user=owner, tenant=tenant, org=org1, name="public", key_type="public", scopes=["*:read"])
    callers["org_key"] = Caller(key_client(world["owner_raw"]))
    callers["unbound_key"] = Caller(key_client(unbound_raw))
    callers["unbound_key_with_org"] = Caller(key_client(unbound_raw), {"organizationId": org1.public_id})
    callers["read_only_key"] = Caller(key_client(read_only_raw))
    callers["agent_key"] = Caller(key_client(agent_raw))
    callers["public_key"] = Caller(key_client(public_raw))
    target = add_member(org1, "viewer")
    scan = scan_services.scan_upload(
        organization=org1,
        scanner="nessus",
        target="srv1",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        findings=[{"title": "x", "severity": "low"}],
        uploaded_by_user=owner,
    )
    invitation = Invitation.objects.create(
        organization=org1,
        email="invitee@example.com",
        role="viewer",
        token_digest=hashlib.sha256(b"api world invitation").hexdigest(),
        invited_by=owner,
        expires_at=timezone.now() + timedelta(hours=72),
    )
    return {
        **world,
        "callers": callers,
        "target": target,
        "scan": scan,
        "invitation": invitation,
        "agent_key": agent_key,
        "agent_raw": agent_raw,
        "unbound_raw": unbound_raw,
        "public_raw": public_raw,
        "read_only_raw": read_only_raw,
    }
