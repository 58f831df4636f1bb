"""A scan records the display prefix of the secret that uploaded it: during a rotation's
grace period an upload with the old secret shows the old prefix in the scans pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apikeys import services as key_services
from scans.models import Scan
from tests.orgs.api_world import SCAN_BODY

UPLOAD = "/api/v1/scans/upload"

pytestmark = pytest.mark.django_db


def _upload(secret: str, target: str) -> Scan:
    response = APIClient().post(UPLOAD, {**SCAN_BODY, "target": target}, format="json", HTTP_X_API_KEY=secret)
    assert response.status_code == 201, response.content
    return Scan.objects.get(public_id=response.json()["id"])


def test_uploads_record_the_prefix_of_the_secret_presented(world: dict[str, Any]) -> None:
    key, old_raw = world["owner_key"], world["owner_raw"]
    old_prefix = key.display_prefix
    before = _upload(old_raw, "before-rotation")
    assert before.key_prefix == old_prefix and old_raw.startswith(old_prefix)
    issued = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=3600)
    new_prefix = issued.api_key.display_prefix
    assert new_prefix != old_prefix
    with_old = _upload(old_raw, "old-secret")
    with_new = _upload(issued.key, "new-secret")
    assert (with_old.key_prefix, with_new.key_prefix) == (old_prefix, new_prefix)
    assert with_old.uploaded_by_key_id == with_new.uploaded_by_key_id == key.public_id

    client = Client()
    client.force_login(world["owner"])
    detail = client.get(reverse("scan_detail", args=[with_old.public_id])).content.decode()
    assert f"{old_prefix}…" in detail and f"{new_prefix}…" not in detail
    assert "an earlier secret, since rotated" in detail
    detail_new = client.get(reverse("scan_detail", args=[with_new.public_id])).content.decode()
    assert f"{new_prefix}…" in detail_new and "since rotated" not in detail_new
    listing = client.get(reverse("scan_list")).content.decode()
    assert listing.count(f"{old_prefix}…") == 2 and listing.count(f"{new_prefix}…") == 1


def test_session_uploads_have_no_key_prefix(world: dict[str, Any]) -> None:
    from scans import services

    scan = services.scan_upload(
        organization=world["org1"],
        scanner="nmap",
        target="t",
        started_at=world["owner_key"].created_at,
        uploaded_by_user=world["owner"],
        key_prefix="ignored",
    )
    assert scan.key_prefix == ""
