"""TATER's published snippets, as the API reference page renders them, run unchanged (but
for the host, ids and key) against a live server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scans.api.views import PAYLOAD_EXAMPLE
from scans.docs_views import upload_snippets
from scans.models import Scan


def _snippets(live_server: Any, world: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    (tmp_path / "scan-payload.json").write_text(json.dumps(PAYLOAD_EXAMPLE))
    return upload_snippets(
        base_url=live_server.url,
        tenant_id=world["tenant"].public_id,
        org_id=world["org1"].public_id,
        api_key=world["owner_raw"],
    )


@pytest.mark.django_db(transaction=True)
def test_python_snippet_uploads_a_scan(live_server, world, tmp_path):
    code = _snippets(live_server, world, tmp_path)["python"]
    assert "params  = {'tenantId': tenant_id, 'organizationId': org_id}" in code
    assert "headers = {'X-API-Key': api_key}" in code
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    scan = Scan.objects.get()
    assert scan.public_id in result.stdout
    assert (scan.organization_id, scan.scanner, scan.count_high) == (world["org1"].pk, "nmap", 1)
    assert scan.uploaded_by_key_id == world["owner_key"].public_id


@pytest.mark.django_db(transaction=True)
def test_python_snippet_with_another_tenants_ids_fails(live_server, world, tmp_path):
    code = upload_snippets(
        base_url=live_server.url,
        tenant_id=world["tenant"].public_id,
        org_id=world["org1"].public_id,
        api_key=world["other_raw"],
    )["python"]
    (tmp_path / "scan-payload.json").write_text(json.dumps(PAYLOAD_EXAMPLE))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "403" in result.stderr
    assert not Scan.objects.exists()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.django_db(transaction=True)
def test_curl_snippet_uploads_a_scan(live_server, world, tmp_path):
    code = _snippets(live_server, world, tmp_path)["curl"]
    result = subprocess.run(["bash", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)  # noqa: S607
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == Scan.objects.get().public_id
