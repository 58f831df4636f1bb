"""A rotated secret keeps its key's expiry (SPEC §2: rotation keeps the record's settings),
so rotating an expired key handed out a secret every call refuses (401 KEY_EXPIRED), with
the old one dead too. The UI already refused (tests/ui/test_review_s37_rotate_expired.py);
the API, with a session or a key, now refuses the same way (400 on ``expires_at``: give the
key a new expiry first), and nothing is issued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


def test_rotating_an_expired_key_is_refused_and_issues_nothing(api, world) -> None:
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], name="lapsed", scopes=["scans:read"]
    )
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    digest = ApiKey.objects.get(pk=key.pk).digest
    api.force_login(world["owner"])
    r = api.post(f"{KEYS}{key.public_id}/rotate/?organizationId={world['org1'].public_id}", {}, format="json")
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR" and "expires_at" in str(body)
    assert "key" not in body
    assert ApiKey.objects.get(pk=key.pk).digest == digest
    assert not AuditEvent.objects.filter(action="api_key.rotated").exists()
