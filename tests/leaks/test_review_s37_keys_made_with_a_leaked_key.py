"""Review s37: what a leaked key made while it was public (SPEC §14, §2a).

An attacker who finds a key with ``keys:write`` in a public repository (scrapers do within
seconds; GitHub's alert comes later) keeps access past its revocation: through the leaked
key they create a key of their own (no looser than it, SPEC §2a, but a key all the same) or
rotate one of the owner's other keys and take its new secret. Found by review: the leak
alert revoked the reported key only, and its mail said nothing of those keys, which kept
working; the owner had to think of searching the Activity Log by the key's id. Now the
mail lists every key still in use that was created or rotated with the leaked key (its
name, prefix and when), to be checked and revoked if not recognised. They are not revoked
(an owner's own provisioning may have made them with that key: a decision left to the
owner; docs/leaked-keys.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import services as key_services
from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


def works(api: Any, raw: str) -> bool:
    return api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code == 200


def test_the_leak_mail_lists_the_keys_made_or_rotated_with_the_leaked_key(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    leaked_raw, leaked = world["owner_raw"], world["owner_key"]
    sibling, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="billing sync")
    untouched, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="made by the owner")
    # The finder, with the leaked key: a key of their own, and a sibling's new secret.
    created = api.post(KEYS, {"name": "backup"}, format="json", HTTP_X_API_KEY=leaked_raw)
    assert created.status_code == 201, created.content
    rotated = api.post(
        f"{KEYS}{sibling.public_id}/rotate/",
        {"grace_period_seconds": 604800},
        format="json",
        HTTP_X_API_KEY=leaked_raw,
    )
    assert rotated.status_code == 200, rotated.content
    planted, taken = created.json()["key"], rotated.json()["key"]
    # ... and a key made with that key: the chain is followed.
    chained = api.post(KEYS, {"name": "second backup"}, format="json", HTTP_X_API_KEY=planted)
    assert chained.status_code == 201, chained.content

    report_leak(leaked_raw)

    assert not works(api, leaked_raw)
    (mail,) = mailoutbox
    made = ApiKey.objects.get(public_id=created.json()["id"])
    made_by_it = ApiKey.objects.get(public_id=chained.json()["id"])
    sibling.refresh_from_db()
    for key in (made, made_by_it, sibling):
        assert f'"{key.name}"' in mail.body and key.display_prefix in mail.body, mail.body
    assert untouched.name not in mail.body
    assert leaked.name in mail.body
    for secret in (leaked_raw, planted, taken):
        assert secret not in mail.body
    # Listed, not revoked: the owner decides (their own provisioning may have made them).
    assert works(api, planted) and works(api, taken)


def test_no_list_when_the_leaked_key_made_nothing(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    report_leak(world["owner_raw"])
    (mail,) = mailoutbox
    assert "created or rotated with it" not in mail.body


def test_keys_it_made_that_are_already_revoked_are_not_listed(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    created = api.post(KEYS, {"name": "throwaway"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    key_services.apikey_revoke(api_key=ApiKey.objects.get(public_id=created.json()["id"]), actor=world["owner"])

    report_leak(world["owner_raw"])
    (mail,) = mailoutbox
    assert "throwaway" not in mail.body
