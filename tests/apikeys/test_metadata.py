"""Per-key metadata (SPEC §14): an optional JSON object of at most 4 KB, set at creation
or by PATCH, returned by validate."""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from audit.models import AuditEvent

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"

pytestmark = pytest.mark.django_db


def test_metadata_set_at_creation_is_returned_by_validate(api, world):
    meta = {"customer": "Contoso", "ticket": 4711, "tags": ["rmm", "nightly"]}
    r = api.post(KEYS, {"name": "rmm", "metadata": meta}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201 and r.json()["metadata"] == meta
    assert api.get(VALIDATE, HTTP_X_API_KEY=r.json()["key"]).json()["metadata"] == meta


def test_keys_without_metadata_answer_an_empty_object(api, world):
    assert api.get(VALIDATE, HTTP_X_API_KEY=world["owner_raw"]).json()["metadata"] == {}


@pytest.mark.parametrize("bad", [["a", "list"], "text", 42, {"big": "x" * 4100}])
def test_bad_metadata_is_a_400_and_creates_nothing(api, world, bad):
    count = ApiKey.objects.count()
    r = api.post(KEYS, {"name": "x", "metadata": bad}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR"
    assert "metadata" in r.json()["details"]["fields"]
    assert ApiKey.objects.count() == count


def test_patch_replaces_metadata_and_validate_sees_it_on_the_next_request(api, world):
    raw = world["owner_raw"]
    key_id = world["owner_key"].public_id
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).json()["metadata"] == {}  # memoized now
    r = api.patch(f"{KEYS}{key_id}/", {"metadata": {"env": "prod"}}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200 and r.json()["metadata"] == {"env": "prod"}
    assert api.get(VALIDATE, HTTP_X_API_KEY=raw).json()["metadata"] == {"env": "prod"}
    event = AuditEvent.objects.filter(action="api_key.updated", target_id=key_id).latest("id")
    assert event.changes["metadata"] == {"keys": ["env"]}
    r = api.patch(f"{KEYS}{key_id}/", {"metadata": None}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 200 and r.json()["metadata"] == {}
