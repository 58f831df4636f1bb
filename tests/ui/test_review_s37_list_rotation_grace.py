"""The API Keys list tells a rotated key apart while its old secret still works (as a
dashboard's "rolled key expires in 12 h"): the old prefix and until when, in the row; once
the grace period is over, or with no grace period, nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from apikeys import services
from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db


def _row(body: str, key: ApiKey) -> str:
    rows = re.findall(r"<tr role=\"row\".*?</tr>", body, re.S)
    mine = [row for row in rows if key.public_id in row]
    assert len(mine) == 1
    return mine[0]


def test_a_rotated_keys_row_says_the_old_secret_still_works(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    old_prefix = key.display_prefix
    services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=6 * 3600)
    body = client_for(world["owner"]).get(reverse("apikey_list")).content.decode()
    row = _row(body, key)
    status = re.search(r'data-label="Status">(.*?)</td>', row, re.S).group(1)
    assert "Active" in status
    assert f"{old_prefix}…" in status and "works until" in status and "in 5 h" in status
    # Another key, never rotated: nothing of the kind.
    assert "works until" not in _row(body, world["member_key"])


def test_no_grace_means_nothing_to_show(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0)
    body = client_for(world["owner"]).get(reverse("apikey_list")).content.decode()
    assert "works until" not in _row(body, key)
