"""Review s48 (SPEC §2 "A key never appears in logs, admin, audit entries or error bodies",
§2a "Nobody else (admins included) ever receives another person's key secret"). A key's
name is in its audit entries (``api_key.created``, the from/to of ``api_key.updated``), in
the key list every reader of the org's keys sees, and in mails: a member who named a new key
after the one it replaces, secret included ("replaces tater_…"), put that live secret in the
Activity Log for the org's admins. A name holding a secret of this deployment's keys is now
a 400 naming ``name`` that never echoes it, on creation and on rename, as for metadata."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apikeys.models import ApiKey
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
AUDIT = "/api/v1/audit-log/"


def _everyone_reads(secret: str, api: Any, owner_raw: str) -> bool:
    rows = json.dumps(list(AuditEvent.objects.values("changes", "target_repr")), default=str)
    audit = api.get(AUDIT, HTTP_X_API_KEY=owner_raw).content.decode()
    keys = api.get(KEYS, HTTP_X_API_KEY=owner_raw).content.decode()
    return any(secret in text for text in (rows, audit, keys))


def _refused_without_echo(r: Any, secret: str) -> None:
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == ["name"]
    assert secret not in r.content.decode()


def test_a_new_key_named_with_a_secret_is_refused(api: Any, world: dict[str, Any]) -> None:
    secret = world["member_raw"]
    count = ApiKey.objects.count()
    r = api.post(KEYS, {"name": f"replaces {secret}"}, format="json", HTTP_X_API_KEY=secret)
    assert not _everyone_reads(secret, api, world["owner_raw"])
    _refused_without_echo(r, secret)
    assert ApiKey.objects.count() == count


def test_a_rename_to_a_secret_is_refused(api: Any, world: dict[str, Any]) -> None:
    secret, key = world["member_raw"], world["member_key"]
    r = api.patch(f"{KEYS}{key.public_id}/", {"name": secret}, format="json", HTTP_X_API_KEY=secret)
    assert not _everyone_reads(secret, api, world["owner_raw"])
    _refused_without_echo(r, secret)
    key.refresh_from_db()
    assert key.name == "member key"


def test_a_name_with_key_shaped_text_that_is_no_key_is_kept(api: Any, world: dict[str, Any]) -> None:
    name = "see tater_" + "0123456789abcdef" * 2
    r = api.post(KEYS, {"name": name}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201 and r.json()["name"] == name, r.content
