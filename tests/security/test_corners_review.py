"""Found by an attacker review of the less-travelled corners: scans (API, alias, pages), the
tenant outbox, the dashboard, the audit log's API and export, the operations endpoints and
the operator commands (expectations from SPEC §1, §3, §5, §7, §10 and §12):

- an agent key holding nothing but ``scans:write`` wrote megabytes of free-form ``metadata``
  into the audit entry of each upload (the body may be 5 MB); every read of the audit log
  (a 500-entry API page, the Activity Log, each dashboard view) then carried them along, so
  a few dozen uploads made every admin's page load gigabytes;
- the Scans page answered a 500 to a date filter near the end of the calendar
  (``?until=9999-12-31``), where any other bad filter is a 400 with the form's message;
- a number too large for a float (``1e999``, parsed as infinity) anywhere in an upload's
  metadata or findings was a 500: neither the audit entry nor the scan's JSON column can
  hold an infinity;
- a public key (``ck_``: business data only, no members) read the email address of every
  member who uploaded a scan in ``uploaded_by.user`` of the scan list and detail;
- ``bootstrap_demo`` (run by ``./run serve`` at every start, ``--reissue-keys``) took any
  tenant named "Demo MSP" for the demo: a signed-up owner who named theirs so had the
  operator rotate their keys and print them as the demo's (the ``export TATER_API_KEY``
  line the operator then uses), and the real demo was never created.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import Tenant
from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db

UPLOAD = "/api/scans/upload"
SCAN = {"scanner": "nmap", "target": "10.0.0.0/24", "started_at": "2026-01-15T09:30:00Z", "findings": []}


# --- SPEC §7 (the audit log: who, what, what changed) read by admins; §5 uploads ---------


def test_an_uploaders_metadata_cannot_bloat_every_audit_read(api: Any, world: dict[str, Any]) -> None:
    """The narrowest uploader (an agent key, ``scans:write`` only) must not be able to put
    the bulk of a 5 MB body into the append-only audit log, which every admin then reads."""
    _, agent_raw = make_key(
        user=world["member"], tenant=world["tenant"], org=world["org1"], key_type="agent", scopes=["scans:write"]
    )
    body = {**SCAN, "metadata": {"agent": "rmm-collector/2.3", "pad": "x" * 200_000}}
    r = api.post(UPLOAD, data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=agent_raw)

    entries = AuditEvent.objects.filter(action="scan.uploaded")
    assert all(len(json.dumps(e.changes)) <= 8192 for e in entries)
    if r.status_code != 201:
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
        assert "metadata" in r.json()["details"]["fields"]
    # The documented example metadata still goes in (docs/orgs-scans-openapi.md).
    small = {**SCAN, "metadata": {"agent": "rmm-collector/2.3", "site": "HQ"}}
    r = api.post(UPLOAD, data=json.dumps(small), content_type="application/json", HTTP_X_API_KEY=agent_raw)
    assert r.status_code == 201, r.content
    event = AuditEvent.objects.get(action="scan.uploaded", target_id=r.json()["id"])
    assert event.changes["metadata"] == {"to": small["metadata"]}


@pytest.mark.parametrize(
    "fragment",
    ['"metadata": {"latency_ms": 1e999}', '"findings": [{"title": "t", "severity": "low", "data": {"x": -1E400}}]'],
)
def test_an_upload_with_an_infinite_number_is_a_400_not_a_500(api: Any, world: dict[str, Any], fragment: str) -> None:
    raw = '{"scanner": "n", "target": "t", "started_at": "2026-01-15T09:30:00Z", ' + fragment + "}"
    r = api.generic("POST", UPLOAD, raw.encode(), content_type="application/json", HTTP_X_API_KEY=world["owner_raw"])
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert "body" in r.json()["details"]["fields"]


# --- SPEC §2a "Public keys (ck_) read business data only: no keys, members or audit log" --


def test_a_public_key_does_not_learn_who_uploaded(api: Any, world: dict[str, Any]) -> None:
    r = api.post(UPLOAD, data=json.dumps(SCAN), content_type="application/json", HTTP_X_API_KEY=world["member_raw"])
    assert r.status_code == 201, r.content
    scan_id = r.json()["id"]
    _, public_raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public", scopes=["*:read"]
    )
    listing = api.get("/api/v1/scans/", HTTP_X_API_KEY=public_raw)
    detail = api.get(f"/api/v1/scans/{scan_id}/", HTTP_X_API_KEY=public_raw)
    assert (listing.status_code, detail.status_code) == (200, 200)
    assert world["member"].email not in listing.content.decode() + detail.content.decode()
    assert detail.json()["uploaded_by"]["user"] is None
    # Nor which key uploaded it ("no keys"): its id is key data too.
    assert detail.json()["uploaded_by"]["key_id"] is None
    # Who may read the members and keys still sees the uploader.
    shown = api.get(f"/api/v1/scans/{scan_id}/", HTTP_X_API_KEY=world["owner_raw"]).json()
    assert shown["uploaded_by"]["user"] == world["member"].email
    assert shown["uploaded_by"]["key_id"].startswith("key-")


# --- SPEC §9 (the UI) and §3's spirit: bad input is a message, never a 500 ---------------


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=9999-12-31&until=9999-12-31"])
def test_scans_page_answers_far_dates_with_the_form_error_not_a_500(world: dict[str, Any], query: str) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world["member"])
    r = client.get(f"/scans/?{query}")
    assert r.status_code == 400, r.status_code
    assert b"Scans" in r.content


# --- SPEC §10 (operator commands) and §2a (secrets go only to owners) ---------------------


def test_bootstrap_demo_is_not_fooled_by_a_tenant_named_like_the_demo(world: dict[str, Any]) -> None:
    """Any tenant owner may name their tenant "Demo MSP" and their keys like the demo's."""
    tenant, attacker, (org,) = make_tenant(name="Demo MSP")
    lure, _ = make_key(user=attacker, tenant=tenant, org=org, name="Contoso full access")
    digest = lure.digest
    out = io.StringIO()
    call_command("bootstrap_demo", "--force", "--reissue-keys", "--json", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])

    lure.refresh_from_db()
    assert (lure.digest, lure.previous_digest) == (digest, None)  # not rotated
    assert result["tenant_id"] != tenant.public_id
    demo = Tenant.objects.get(public_id=result["tenant_id"])
    assert demo.memberships.get(role="owner").user.email == "owner@demo.tater.test"
    issued = {k["id"] for k in result["keys"]}
    assert issued and issued <= set(ApiKey.objects.filter(tenant=demo).values_list("public_id", flat=True))
