"""Review s48 (SPEC §14 expiry notices; README: a rotation keeps the key's expiry, "an expired
key is a 400 on expires_at ... give it a new expiry first"). The notice told the owner to
"Create a replacement or rotate it ... before then, deploy it, and revoke the old one". An
owner who rotated as told kept the same expiry (the key still expires on the date of the
mail), and revoking "the old one" afterwards revoked the key with its new secret. The notice
now says rotating keeps the expiry and names what helps: a later expiry (Edit settings), or
a replacement key, deployed before this one is revoked."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_key

pytestmark = pytest.mark.django_db


def _notice_body() -> str:
    out = io.StringIO()
    call_command("send_key_expiry_notices", "--json", stdout=out)
    assert len(json.loads(out.getvalue().strip().splitlines()[-1])["sent"]) == 1
    (message,) = mail.outbox
    return message.body


def test_the_notice_does_not_advise_a_rotation_that_keeps_the_expiry(api: Any, world: dict[str, Any]) -> None:
    key, _ = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], expires_at=timezone.now() + timedelta(days=5)
    )
    body = _notice_body()
    url, auth = f"/api/v1/keys/{key.public_id}/", {"HTTP_X_API_KEY": world["owner_raw"]}
    warned_of = api.get(url, **auth).json()["expires_at"]

    # What rotating does: the same expiry, the date the mail warned of.
    r = api.post(
        f"/api/v1/keys/{key.public_id}/rotate/",
        {"grace_period_seconds": 0},
        format="json",
        **auth,
    )
    assert r.status_code == 200, r.content
    assert warned_of is not None and api.get(url, **auth).json()["expires_at"] == warned_of

    assert not re.search(r"\brotate (it|the key)\b", body, re.IGNORECASE), body
    assert "Edit settings" in body and "expiry" in body, body
    assert "replacement" in body, body
