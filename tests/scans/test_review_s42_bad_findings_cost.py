"""Review s42 (D): a bad upload costs one short answer, whatever its size (SPEC §3 "a bad
body is a 400 naming the failing field", §5 the 5 MB limit, §12). Before, every finding and
every reference was validated before their number was checked, and every failure was
answered: a 3.6 MB body of one finding with 1.2 million blank references held a worker for
about 95 s and answered a 77 MB error (one entry per reference); 500,000 empty findings
(1.5 MB) 80 s and 53 MB; 150,000 valid findings 6 s for "At most 10000 findings"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from scans.api import serializers as scan_serializers
from scans.models import Scan
from tests.orgs.api_world import SCAN_BODY

pytestmark = pytest.mark.django_db

UPLOAD = "/api/scans/upload"


def post(api: Any, world: dict[str, Any], body: dict[str, Any]) -> Any:
    raw = json.dumps(body, separators=(",", ":")).encode()
    return api.generic("POST", UPLOAD, raw, content_type="application/json", HTTP_X_API_KEY=world["owner_raw"])


@pytest.fixture
def findings_validated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many findings reached validation."""
    seen: list[int] = []
    original = scan_serializers.FindingInput.to_internal_value

    def spy(self: Any, data: Any) -> Any:
        seen.append(1)
        return original(self, data)

    monkeypatch.setattr(scan_serializers.FindingInput, "to_internal_value", spy)
    return seen


def test_too_many_findings_are_refused_before_any_is_validated(api, world, findings_validated):
    with override_settings(TATER_SCAN_MAX_FINDINGS=5):
        r = post(api, world, {**SCAN_BODY, "findings": [{"title": "x", "severity": "low"}] * 20_000})
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
    assert r.json()["details"]["fields"] == {"findings": ["At most 5 findings per scan"]}
    assert findings_validated == []
    assert not Scan.objects.exists()


def test_too_many_references_are_refused_before_any_is_validated(api, world):
    r = post(api, world, {**SCAN_BODY, "findings": [{"title": "x", "severity": "low", "references": [""] * 100_000}]})
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
    assert r.json()["details"]["fields"] == {
        "findings.0.references": ["Ensure this field has no more than 50 elements."]
    }


def test_many_bad_findings_get_a_short_answer(api, world, findings_validated):
    """The first invalid findings are named (enough to fix the producer), not every one."""
    r = post(api, world, {**SCAN_BODY, "findings": [{"title": "ok", "severity": "low"}, *[{}] * 5_000]})
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
    fields = r.json()["details"]["fields"]
    assert r.json()["message"] == "findings.1.title: This field is required."
    assert "findings.1.severity" in fields
    assert 0 < len(fields) <= 2 * scan_serializers.MAX_REPORTED_FINDINGS
    assert len(findings_validated) <= 1 + scan_serializers.MAX_REPORTED_FINDINGS
    assert len(r.content) < 10_000
    assert not Scan.objects.exists()


def test_many_bad_references_get_a_short_answer(api, world):
    body = {**SCAN_BODY, "findings": [{"title": "x", "severity": "low", "references": [""] * 50}] * 2_000}
    r = post(api, world, body)
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
    assert r.json()["message"] == "findings.0.references.0: This field may not be blank."
    assert len(r.content) < 100_000


def test_the_limit_itself_still_uploads(api, world):
    with override_settings(TATER_SCAN_MAX_FINDINGS=3):
        r = post(
            api, world, {**SCAN_BODY, "findings": [{"title": "x", "severity": "low", "references": ["r"] * 50}] * 3}
        )
        assert r.status_code == 201, r.content
        too_many = post(api, world, {**SCAN_BODY, "findings": [{"title": "x", "severity": "low"}] * 4})
    assert too_many.json()["details"]["fields"] == {"findings": ["At most 3 findings per scan"]}
    assert Scan.objects.get().count_low == 3
