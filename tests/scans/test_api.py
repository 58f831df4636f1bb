"""Scan upload, list and detail through the HTTP stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from scans.models import Scan
from tests.factories import make_key
from tests.orgs.api_world import SCAN_BODY

UPLOAD = "/api/v1/scans/upload"
ALIAS = "/api/scans/upload"
UPLOAD_PATHS = pytest.mark.parametrize("path", [UPLOAD, ALIAS])


def post_raw(api: Any, path: str, raw: bytes, key: str, **extra: Any) -> Any:
    return api.generic("POST", path, raw, content_type="application/json", HTTP_X_API_KEY=key, **extra)


@pytest.mark.django_db
class TestUpload:
    @UPLOAD_PATHS
    def test_upload_records_who_and_audits(self, api, world, path):
        params = f"?tenantId={world['tenant'].public_id}&organizationId={world['org1'].public_id}"
        body = {
            **SCAN_BODY,
            "findings": [
                {"title": "a", "severity": "High"},
                {"title": "b", "severity": "high"},
                {"title": "c", "severity": "info", "data": {"x": 1}},
            ],
        }
        r = api.post(path + params, body, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 201, r.content
        data = r.json()
        assert data["id"].startswith("scan-")
        assert data["organization_id"] == world["org1"].public_id
        assert data["tenant_id"] == world["tenant"].public_id
        assert data["severity_counts"] == {"info": 1, "low": 0, "medium": 0, "high": 2, "critical": 0}
        assert data["uploaded_by"] == {
            "user": world["owner"].email,
            "key_id": world["owner_key"].public_id,
            "key_prefix": world["owner_raw"][: len(world["owner_key"].display_prefix)],  # what the UI shows too
        }
        assert data["findings"][0]["severity"] == "high"
        scan = Scan.objects.get(public_id=data["id"])
        assert (scan.uploaded_by_user, scan.uploaded_by_key_id) == (world["owner"], world["owner_key"].public_id)
        event = AuditEvent.objects.get(action="scan.uploaded", target_id=data["id"])
        assert event.api_key_id == world["owner_key"].public_id and event.channel == "api"
        assert event.organization_id == world["org1"].pk

    def test_the_uploading_secrets_prefix_only_to_who_may_see_the_key(self, api, world):
        """SPEC §2a: members see only their own keys, viewers and public keys none; the scan's
        uploader prefix follows the same rule (as the scan pages do)."""
        r = api.post(UPLOAD, SCAN_BODY, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 201
        scan_id = r.json()["id"]
        prefix = world["owner_key"].display_prefix
        assert r.json()["uploaded_by"]["key_prefix"] == prefix
        for who in ("member", "viewer"):
            client = APIClient()
            client.force_login(world[who])
            for answer in (client.get(f"/api/v1/scans/{scan_id}/"), client.get("/api/v1/scans/")):
                body = answer.json()
                uploader = body["uploaded_by"] if "uploaded_by" in body else body["scans"][0]["uploaded_by"]
                assert uploader["key_id"] == world["owner_key"].public_id, who
                assert uploader["key_prefix"] is None, who
        _, public_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="public")
        listed = api.get("/api/v1/scans/", HTTP_X_API_KEY=public_raw).json()["scans"]
        assert listed and all(scan["uploaded_by"]["key_prefix"] is None for scan in listed)

    def test_session_upload_records_user_without_key(self, api, world):
        api.force_login(world["member"])
        r = api.post(UPLOAD, SCAN_BODY, format="json")
        assert r.status_code == 201
        assert r.json()["uploaded_by"] == {"user": world["member"].email, "key_id": None, "key_prefix": None}

    @pytest.mark.parametrize(
        "body,field",
        [
            ({k: v for k, v in SCAN_BODY.items() if k != "scanner"}, "scanner"),
            ({**SCAN_BODY, "started_at": "yesterday"}, "started_at"),
            ({**SCAN_BODY, "findings": [{"title": "x", "severity": "urgent"}]}, "findings.0.severity"),
            ({**SCAN_BODY, "findings": [{"severity": "low"}]}, "findings.0.title"),
            ({**SCAN_BODY, "findings": [{"title": "x", "severity": "low", "severty": "low"}]}, "findings.0.severty"),
            ({**SCAN_BODY, "scannerr": "x"}, "scannerr"),
            ({**SCAN_BODY, "findings": "none"}, "findings"),
            ({**SCAN_BODY, "finished_at": "2026-01-15T09:00:00Z"}, "finished_at"),
        ],
    )
    def test_validation_names_the_field(self, api, world, body, field):
        r = api.post(UPLOAD, body, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 400, r.content
        data = r.json()
        assert data["error"] == "VALIDATION_ERROR"
        assert any(name == field or name.startswith(field + ".") for name in data["details"]["fields"]), data
        assert data["message"].startswith(field)
        assert not Scan.objects.exists()

    @pytest.mark.parametrize("raw,expected", [(b"{not json", "JSON parse error"), (b"", "body"), (b"[1]", "body")])
    def test_malformed_or_missing_body(self, api, world, raw, expected):
        r = post_raw(api, UPLOAD, raw, world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
        assert expected in r.json()["message"]

    def test_wrong_media_type(self, api, world):
        r = api.generic(
            "POST", UPLOAD, json.dumps(SCAN_BODY), content_type="text/plain", HTTP_X_API_KEY=world["owner_raw"]
        )
        assert (r.status_code, r.json()["error"]) == (415, "UNSUPPORTED_MEDIA_TYPE")

    @UPLOAD_PATHS
    def test_oversized_body_is_413_in_catalog_format(self, api, world, path):
        limit = 2000
        body = {**SCAN_BODY, "findings": [{"title": "x" * 400, "severity": "low"}] * 10}
        raw = json.dumps(body).encode()
        assert len(raw) > limit
        with override_settings(TATER_MAX_UPLOAD_BYTES=limit):
            r = post_raw(api, path, raw, world["owner_raw"])
            assert r.status_code == 413
            assert r.json()["error"] == "PAYLOAD_TOO_LARGE"
            assert r.json()["details"] == {"max_bytes": limit}
            assert r.json()["request_id"] == r["X-Request-ID"]
            # Exactly at the limit is accepted.
            small = json.dumps(SCAN_BODY).encode()
            assert post_raw(api, path, small, world["owner_raw"]).status_code == 201
        assert Scan.objects.count() == 1

    def test_default_limit_is_5_mb(self, api, world):
        raw = json.dumps({**SCAN_BODY, "metadata": {"pad": "x" * (5 * 1024 * 1024)}}).encode()
        r = post_raw(api, ALIAS, raw, world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (413, "PAYLOAD_TOO_LARGE")

    @UPLOAD_PATHS
    def test_chunked_body_is_bounded(self, api, world, path):
        # No Content-Length: the body is read from the server's input at most limit + 1 bytes.
        raw = json.dumps({**SCAN_BODY, "metadata": {"pad": "x" * 5000}}).encode()
        with override_settings(TATER_MAX_UPLOAD_BYTES=1000):
            r = post_raw(
                api,
                path,
                raw,
                world["owner_raw"],
                CONTENT_LENGTH="",
                HTTP_TRANSFER_ENCODING="chunked",
                **{"wsgi.input_terminated": True},
            )
        assert (r.status_code, r.json()["error"]) == (413, "PAYLOAD_TOO_LARGE")

    def test_chunked_body_without_terminated_input_needs_length(self, api, world):
        raw = json.dumps(SCAN_BODY).encode()
        r = post_raw(api, UPLOAD, raw, world["owner_raw"], CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
        assert (r.status_code, r.json()["error"]) == (411, "LENGTH_REQUIRED")

    def test_agent_key_uploads_but_cannot_read(self, api, world):
        _, raw = make_key(
            user=world["owner"], tenant=world["tenant"], org=world["org1"], name="agent", key_type="agent"
        )
        r = api.post(ALIAS, SCAN_BODY, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 201
        r = api.get("/api/v1/scans/", HTTP_X_API_KEY=raw)
        assert (r.status_code, r.json()["error"]) == (403, "KEY_TYPE_NOT_ALLOWED")

    def test_unbound_key_cannot_upload(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="cron")
        r = api.post(f"{ALIAS}?organizationId={world['org1'].public_id}", SCAN_BODY, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 401
        assert r.json()["message"] == "Unbound API key may not scope to a specific org"

    def test_other_tenant_ids_are_refused(self, api, world):
        for params in (f"?organizationId={world['org1'].public_id}", f"?tenantId={world['tenant'].public_id}"):
            r = api.post(ALIAS + params, SCAN_BODY, format="json", HTTP_X_API_KEY=world["other_raw"])
            assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED")
        assert not Scan.objects.exists()


def _upload(api: Any, key: str, **overrides: Any) -> str:
    r = api.post(UPLOAD, {**SCAN_BODY, **overrides}, format="json", HTTP_X_API_KEY=key)
    assert r.status_code == 201, r.content
    return r.json()["id"]


@pytest.mark.django_db
class TestRead:
    def test_filters_and_paging(self, api, world):
        key = world["owner_raw"]
        a = _upload(
            api,
            key,
            scanner="nmap",
            started_at="2026-01-01T00:00:00Z",
            findings=[{"title": "x", "severity": "critical"}],
        )
        b = _upload(
            api, key, scanner="nessus", started_at="2026-02-01T00:00:00Z", findings=[{"title": "x", "severity": "low"}]
        )
        c = _upload(api, key, scanner="nmap", started_at="2026-03-01T00:00:00Z", findings=[])

        def ids(**params: str) -> list[str]:
            r = api.get("/api/v1/scans/", params, HTTP_X_API_KEY=key)
            assert r.status_code == 200, r.content
            return [s["id"] for s in r.json()["scans"]]

        assert ids() == [c, b, a]
        assert ids(scanner="nmap") == [c, a]
        assert ids(severity="critical") == [a]
        assert ids(severity="low,critical") == [b, a]
        assert ids(since="2026-02-01") == [c, b]
        assert ids(until="2026-02-01T00:00:00Z") == [a]
        assert ids(limit="1", offset="1") == [b]
        r = api.get("/api/v1/scans/", {"limit": 1}, HTTP_X_API_KEY=key)
        assert (r.json()["total"], r.json()["limit"], r.json()["offset"]) == (3, 1, 0)
        assert "findings" not in r.json()["scans"][0]

    @pytest.mark.parametrize(
        "params,field", [({"severity": "urgent"}, "severity"), ({"since": "soon"}, "since"), ({"limit": "0"}, "limit")]
    )
    def test_bad_filters(self, api, world, params, field):
        r = api.get("/api/v1/scans/", params, HTTP_X_API_KEY=world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
        assert field in r.json()["details"]["fields"]

    def test_detail_has_findings_and_is_404_elsewhere(self, api, world):
        scan_id = _upload(api, world["owner_raw"])
        r = api.get(f"/api/v1/scans/{scan_id}/", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200 and r.json()["findings"][0]["title"] == "Telnet open"
        # Another tenant's key, and this tenant's key bound to another org: never the data.
        r = api.get(f"/api/v1/scans/{scan_id}/", HTTP_X_API_KEY=world["other_raw"])
        assert (r.status_code, r.json()["error"]) == (404, "NOT_FOUND")
        _, org2_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org2"], name="org2")
        assert api.get(f"/api/v1/scans/{scan_id}/", HTTP_X_API_KEY=org2_raw).status_code == 404
        assert api.get("/api/v1/scans/", HTTP_X_API_KEY=org2_raw).json()["total"] == 0
        assert api.get("/api/v1/scans/", HTTP_X_API_KEY=world["other_raw"]).json()["total"] == 0
