"""SPEC §14: a key's rotated-out secrets stay known when GitHub reports one, however many
rotations ago. Rotations made before RetiredSecret existed left only the key's
``previous_digest``; without migration 0008 a key rotated once before the upgrade and again
after forgot its first secret: the finder who rotated it through the leaked secret kept it,
its owner never heard (a ``false_positive``; noticed by review s40 F)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps

from apikeys.models import RetiredSecret
from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import key_status, post_signed

pytestmark = pytest.mark.django_db
backfill = importlib.import_module("apikeys.migrations.0008_retired_secret_backfill").backfill


def rotate(api: Any, key: Any, raw: str) -> str:
    r = api.post(
        f"/api/v1/keys/{key.public_id}/rotate/",
        {"grace_period_seconds": 0},
        content_type="application/json",
        HTTP_X_API_KEY=raw,
    )
    assert r.status_code == 200, r.content
    return r.json()["key"]


def test_a_secret_rotated_out_before_the_upgrade_is_still_known_after_another_rotation(
    api: Any, world: dict[str, Any], github: Any, signing_key: Any, django_capture_on_commit_callbacks: Any
) -> None:
    leaked, key = world["owner_raw"], world["owner_key"]
    second = rotate(api, key, leaked)  # the finder, through the secret they found
    RetiredSecret.objects.all().delete()  # as a rotation made before 0007 left it
    backfill(apps, None)  # the upgrade
    (row,) = RetiredSecret.objects.all()
    assert row.rotated_through_itself  # read from the rotation's audit entry
    finders = rotate(api, key, second)  # and again, after the upgrade

    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(match(leaked)))

    assert answer.json()[0]["label"] == "true_positive"
    assert key_status(api, finders) == (401, "KEY_REVOKED")


def test_a_rotation_by_the_owner_signed_in_is_backfilled_as_such(api: Any, world: dict[str, Any]) -> None:
    from apikeys import services as key_services

    key_services.apikey_rotate(api_key=world["owner_key"], actor=world["owner"], grace_period_seconds=0)
    RetiredSecret.objects.all().delete()
    backfill(apps, None)
    backfill(apps, None)  # a second run adds nothing
    (row,) = RetiredSecret.objects.all()
    assert not row.rotated_through_itself
