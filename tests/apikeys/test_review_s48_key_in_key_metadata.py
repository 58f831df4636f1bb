"""Review s48 (SPEC §2 "A key never appears in logs, admin, audit entries or error bodies",
§2a "Nobody else (admins included) ever receives another person's key secret", §14
metadata). A key's metadata names are kept in its ``api_key.created`` / ``api_key.updated``
audit entry (``{"metadata": {"keys": [...]}}``), which the org's admins read, and its values
are shown to every reader of the key: a member whose integration config mapped its keys by
secret (``{"tater_…": "prod"}``) put a live secret in the Activity Log. Metadata holding a
secret of this deployment's keys is now a 400 naming ``metadata`` (the key never echoed) on
creation and on PATCH, as for a scan upload's metadata."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
AUDIT = "/api/v1/audit-log/"


def _shapes(secret: str) -> list[dict[str, Any]]:
    return [
        {secret: "prod"},  # a member name: kept in the audit entry
        {"backup": {"key": secret}},  # a value: shown to the key's readers
        {"cmd": f"agent --key={secret} --site HQ"},
    ]


def _refused_without_echo(r: Any, secret: str) -> None:
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == ["metadata"]
    assert secret not in r.content.decode()


def _audit_holds(secret: str, api: Any, owner_raw: str) -> bool:
    rows = json.dumps(list(AuditEvent.objects.values("changes", "action")), default=str)
    seen_by_owner = api.get(AUDIT, HTTP_X_API_KEY=owner_raw).content.decode()
    return secret in rows or secret in seen_by_owner


@pytest.mark.parametrize("shape", range(3))
def test_a_key_in_new_key_metadata_is_refused(api: Any, world: dict[str, Any], shape: int) -> None:
    secret = world["member_raw"]
    count = ApiKey.objects.count()
    r = api.post(
        KEYS, {"name": "cfg", "metadata": _shapes(secret)[shape]}, format="json", HTTP_X_API_KEY=world["member_raw"]
    )
    assert not _audit_holds(secret, api, world["owner_raw"])
    _refused_without_echo(r, secret)
    assert ApiKey.objects.count() == count


@pytest.mark.parametrize("shape", range(3))
def test_a_key_in_patched_metadata_is_refused(api: Any, world: dict[str, Any], shape: int) -> None:
    _, other_secret = make_key(user=world["member"], tenant=world["tenant"], org=world["org1"], name="second")
    key = world["member_key"]
    r = api.patch(
        f"{KEYS}{key.public_id}/",
        {"metadata": _shapes(other_secret)[shape]},
        format="json",
        HTTP_X_API_KEY=world["member_raw"],
    )
    assert not _audit_holds(other_secret, api, world["owner_raw"])
    _refused_without_echo(r, other_secret)
    key.refresh_from_db()
    assert key.metadata == {}


def test_key_shaped_text_that_is_no_key_is_kept(api: Any, world: dict[str, Any]) -> None:
    made_up = "tater_" + "0123456789abcdef" * 2  # the shape, but never issued
    r = api.post(
        KEYS, {"name": "cfg", "metadata": {"example": made_up}}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 201, r.content
    assert r.json()["metadata"] == {"example": made_up}
