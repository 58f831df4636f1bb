"""README decision next to SPEC §4 (org resolution): a blank org hint (``?organizationId=``,
``?tenantId=``, an empty ``X-Workspace-ID``) is the hint left out, not a 400 as a blank
``status=`` filter is: the TATER snippets (``…?tenantId=$TENANT_ID&organizationId=$ORG_ID``)
run with an unset variable still work for an org-scoped key, which needs no hint. Pinned here:
blank is answered exactly as absent (its own org; ``AMBIGUOUS_ORG`` for an unbound key of a
multi-org tenant), never a 403 for an org named ``''``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.factories import make_key

pytestmark = pytest.mark.django_db
PAYLOAD = json.loads((Path(__file__).resolve().parents[2] / "examples" / "scan-payload.json").read_text())


def test_the_upload_snippet_with_empty_variables_uploads_to_the_keys_org(api, world):
    answer = api.post(
        "/api/scans/upload?tenantId=&organizationId=", PAYLOAD, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["organization_id"] == world["org1"].public_id


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("organizationId=", {}),
        ("tenantId=", {}),
        ("organizationId=%20&tenantId=%20", {}),
        ("", {"HTTP_X_WORKSPACE_ID": ""}),
    ],
)
def test_a_blank_hint_answers_as_no_hint(api, world, query, headers):
    absent = api.get("/api/v1/keys/", HTTP_X_API_KEY=world["owner_raw"])
    blank = api.get(f"/api/v1/keys/?{query}", HTTP_X_API_KEY=world["owner_raw"], **headers)
    assert blank.status_code == absent.status_code == 200, blank.content
    assert blank.json() == absent.json()


def test_an_unbound_key_of_a_multi_org_tenant_still_needs_a_real_hint(api, world):
    _, unbound = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
    for url in ("/api/v1/scans/", "/api/v1/scans/?organizationId=", "/api/v1/scans/?organizationId=&tenantId="):
        answer = api.get(url, HTTP_X_API_KEY=unbound)
        assert answer.status_code == 400, (url, answer.content)
        assert answer.json()["error"] == "AMBIGUOUS_ORG"


def test_a_blank_status_filter_stays_a_400(api, world):
    answer = api.get("/api/v1/keys/?status=", HTTP_X_API_KEY=world["owner_raw"])
    assert answer.status_code == 400
    assert "status" in answer.json()["details"]["fields"]
