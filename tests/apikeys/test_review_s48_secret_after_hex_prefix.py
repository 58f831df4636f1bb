"""SPEC §2 "Prefixes are settable per deployment (e.g. ``taapit_``)" and "A key never appears in
... audit entries". Review s48's secret check (apikeys.secrets_in_text, asked for every name, a
key's metadata and a scan upload) looked for exactly 32 hex digits not preceded by one, so a
deployment whose prefix ends in a letter a-f or a digit (``acme``, ``prod1``: settings accept
any prefix that is not hex alone) had none of its keys recognised: a key's name or metadata, an
organization's name, holding such a live key went into the Activity Log. The key's 32 hex end
a run of hex; the prefix's own hex letters may start it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
ACME = {"standard": "acme", "agent": "prod1", "public": "ck_"}


@pytest.mark.parametrize("kind", ["standard", "agent"])
def test_a_key_whose_prefix_ends_in_hex_is_refused_in_a_name_and_metadata(
    api: Any, world: dict[str, Any], kind: str
) -> None:
    with override_settings(TATER_KEY_PREFIXES=ACME):
        _, secret = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type=kind)
        assert secret.startswith(ACME[kind])
        count = ApiKey.objects.count()
        for body in ({"name": f"replaces {secret}"}, {"name": "ok", "metadata": {"old": secret}}):
            r = api.post(KEYS, body, format="json", HTTP_X_API_KEY=world["owner_raw"])
            assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR", r.content
            assert secret not in r.content.decode()
        assert ApiKey.objects.count() == count
        assert not any(secret in str(row) for row in AuditEvent.objects.values_list("changes", flat=True))


def test_hex_that_is_no_key_is_still_kept(api: Any, world: dict[str, Any]) -> None:
    with override_settings(TATER_KEY_PREFIXES=ACME):
        name = "build acme" + "0123456789abcdef" * 2
        r = api.post(KEYS, {"name": name}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 201 and r.json()["name"] == name, r.content
