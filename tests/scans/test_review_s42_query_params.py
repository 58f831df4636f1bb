"""Review s42 (D): a query parameter the scans upload or a scan's detail does not read is a
400 naming it, as on the scan list, the key endpoints, the audit log and the member list
(README "Decisions", SPEC §3 "bad body or query", §4). Before, both dropped it: an
upload with a misspelt org hint (``?organisationId=``, ``?organizationid=``) was stored in
the caller's current org instead of the one meant, as if no org had been named."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from orgs.access import SESSION_ORG_KEY
from scans.models import Scan
from tests.orgs.api_world import SCAN_BODY

pytestmark = pytest.mark.django_db

UPLOAD_PATHS = pytest.mark.parametrize("path", ["/api/v1/scans/upload", "/api/scans/upload"])


def owner_session(world: dict[str, Any]) -> APIClient:
    """The owner's browser session, its org switcher on org1."""
    client = APIClient()
    client.force_login(world["owner"])
    session = client.session
    session[SESSION_ORG_KEY] = world["org1"].public_id
    session.save()
    return client


@UPLOAD_PATHS
@pytest.mark.parametrize("name", ["organisationId", "organizationid", "orgId", "workspace"])
def test_a_misspelt_org_hint_is_refused_not_dropped(world, path, name):
    client = owner_session(world)
    r = client.post(f"{path}?{name}={world['org2'].public_id}", SCAN_BODY, format="json")
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert name in r.json()["details"]["fields"]
    assert not Scan.objects.exists()


@UPLOAD_PATHS
def test_an_org_bound_key_with_an_unknown_parameter_stores_nothing(api, world, path):
    r = api.post(
        f"{path}?tenantId={world['tenant'].public_id}&organisationId={world['org2'].public_id}",
        SCAN_BODY,
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == ["organisationId"]
    assert not Scan.objects.exists()


@UPLOAD_PATHS
def test_the_snippets_parameters_still_work(api, world, path):
    """TATER's snippets send tenantId and organizationId; ``format`` is tolerated everywhere."""
    params = f"?tenantId={world['tenant'].public_id}&organizationId={world['org1'].public_id}&format=json"
    r = api.post(path + params, SCAN_BODY, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201, r.content


def test_a_scans_detail_refuses_parameters_it_does_not_read(api, world):
    r = api.post("/api/v1/scans/upload", SCAN_BODY, format="json", HTTP_X_API_KEY=world["owner_raw"])
    scan_id = r.json()["id"]
    r = api.get(f"/api/v1/scans/{scan_id}/?include=findings", HTTP_X_API_KEY=world["owner_raw"])
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == ["include"]
    hinted = f"/api/v1/scans/{scan_id}/?organizationId={world['org1'].public_id}&tenantId={world['tenant'].public_id}"
    assert api.get(hinted, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200
