"""SPEC §2 "A key never appears in logs, admin, audit entries or error bodies"; §2a nobody else
ever receives another person's key secret. An upload's ``scanner`` and ``target`` go into its
``scan.uploaded`` audit entry, read by every member and admin of the org, as its ``metadata``
does (refused when it holds a key since s42). A collector that scanned a URL carrying its key
(``https://app.example/api?api_key=ak_…``) or ran under a name holding it put the live key in
that entry, in clear. Such a value is now a 400 naming the field (without echoing the key),
and nothing is stored."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from scans.models import Scan
from tests.factories import make_key
from tests.orgs.api_world import SCAN_BODY

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/scans/upload"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target", lambda key: f"https://app.example/api/status?api_key={key}"),
        ("target", lambda key: key),
        ("scanner", lambda key: f"collector {key}"),
    ],
)
def test_a_key_in_the_target_or_scanner_is_refused(api, world, field, value):
    _, agent_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="agent")
    body = {**SCAN_BODY, field: value(agent_raw)}

    r = api.post(UPLOAD, body, format="json", HTTP_X_API_KEY=agent_raw)

    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == [field]
    assert agent_raw not in r.content.decode()
    assert not Scan.objects.exists()
    assert not AuditEvent.objects.filter(action="scan.uploaded").exists()
    # Nothing an org admin reads in the log holds it.
    api.force_login(world["admin"])
    log = api.get("/api/v1/audit-log/", {"organizationId": world["org1"].public_id}).content.decode()
    assert agent_raw not in log


def test_key_shaped_targets_that_are_no_key_are_kept(api, world):
    target = "https://app.example/?sha=d41d8cd98f00b204e9800998ecf8427e&demo=tater_3fd88c926edd3a6f66a925de7df4cfe4"
    r = api.post(UPLOAD, {**SCAN_BODY, "target": target}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201, r.content
    assert AuditEvent.objects.get(action="scan.uploaded").changes["target"]["to"] == target
