"""Review s42 (D): SPEC §2 "A key never appears in logs, admin, audit entries or error
bodies", §2a "Nobody else (admins included) ever receives another person's key secret".
An upload's ``metadata`` is kept in its ``scan.uploaded`` audit entry, which every reader
of the org's audit log sees: a collector that sent its config (``{"api_key": "ak_…"}``)
put its owner's live key there, in clear, for the org's admins. Such metadata is now a 400
naming ``metadata`` (without the key), and nothing is stored."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from scans.models import Scan
from tests.factories import make_key
from tests.orgs.api_world import SCAN_BODY

pytestmark = pytest.mark.django_db

UPLOAD = "/api/scans/upload"


@pytest.mark.parametrize(
    "metadata",
    [
        lambda key: {"config": {"api_key": key}},
        lambda key: {"cmdline": f"collector --key={key} --site HQ"},
        lambda key: {key: "as a member name"},
    ],
)
def test_metadata_holding_a_key_is_refused(api, world, metadata):
    _, agent_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="agent")
    r = api.post(UPLOAD, {**SCAN_BODY, "metadata": metadata(agent_raw)}, format="json", HTTP_X_API_KEY=agent_raw)
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == ["metadata"]
    assert agent_raw not in r.content.decode()
    assert not Scan.objects.exists()
    assert not AuditEvent.objects.filter(action="scan.uploaded").exists()


def test_another_persons_key_is_refused_too(api, world):
    r = api.post(
        UPLOAD,
        {**SCAN_BODY, "metadata": {"found": world["member_raw"]}},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 400
    assert world["member_raw"] not in AuditEvent.objects.values_list("changes", flat=True).__str__()


def test_key_shaped_values_that_are_no_key_are_kept(api, world):
    """Hashes, request ids and made-up keys (the docs' example) are not keys of this deployment."""
    metadata = {
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "md5": "d41d8cd98f00b204e9800998ecf8427e",
        "example": "tater_3fd88c926edd3a6f66a925de7df4cfe4",
    }
    r = api.post(UPLOAD, {**SCAN_BODY, "metadata": metadata}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201, r.content
    assert AuditEvent.objects.get(action="scan.uploaded").changes["metadata"]["to"] == metadata
