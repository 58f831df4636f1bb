"""Found by an input review of the API (2026-12-06), expectations from SPEC §3 ("bad body
or query: 400 VALIDATION_ERROR, names the failing field"), as the key endpoints already
apply them (tests/apikeys/test_review_s37_unknown_query_params.py):

the audit log, the scan list and the member list dropped every query parameter they do not
read. A misspelt filter answered as if absent: ``audit-log/?chanel=api`` (or ``?actr=``,
``?sinse=``) gave the whole log as if filtered, and with ``format=csv`` exported all of it;
``scans/?severty=critical`` listed every scan as if critical; ``members/?ofset=50`` the first
page as if the next. Each is now a 400 naming the parameter; the parameters these
endpoints read, the org hints and ``format`` stay accepted.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def _refused(response: Any, name: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR", body
    assert name in body["details"]["fields"], body


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/api/v1/audit-log/?chanel=api", "chanel"),
        ("/api/v1/audit-log/?actr=someone@example.com", "actr"),
        ("/api/v1/audit-log/?format=csv&sinse=2026-01-01", "sinse"),
        ("/api/v1/scans/?severty=critical", "severty"),
        ("/api/v1/scans/?scaner=nmap", "scaner"),
    ],
)
def test_a_misspelt_list_filter_is_refused_not_answered_as_absent(api, world, url, name):
    _refused(api.get(url, HTTP_X_API_KEY=world["owner_raw"]), name)


def test_a_misspelt_member_paging_parameter_is_refused(api, world):
    api.force_login(world["owner"])
    _refused(api.get(f"/api/v1/organizations/{world['org1'].public_id}/members/?ofset=50"), "ofset")


def test_the_parameters_these_lists_read_are_accepted(api, world):
    key = {"HTTP_X_API_KEY": world["owner_raw"]}
    org = world["org1"].public_id
    audit = (
        f"/api/v1/audit-log/?channel=api&action=api_key.*&actor={world['owner'].email}"
        f"&key={world['owner_key'].public_id}"
        f"&since=2026-01-01&until=2030-01-01&limit=5&organizationId={org}&format=json"
    )
    assert api.get(audit, **key).status_code == 200
    export = api.get("/api/v1/audit-log/?format=csv&channel=api", **key)
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    scans = "/api/v1/scans/?scanner=nmap&severity=high,critical&since=2026-01-01&until=2030-01-01&limit=5&offset=0"
    assert api.get(f"{scans}&tenantId={world['tenant'].public_id}", **key).status_code == 200
    api.force_login(world["owner"])
    assert api.get(f"/api/v1/organizations/{org}/members/?limit=5&offset=0&organizationId={org}").status_code == 200
