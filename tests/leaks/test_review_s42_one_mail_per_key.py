"""An alert holding both an old secret of a key (rotated out, past its grace period) and its
current secret, as when the file holding the key was committed before and after a
rotation: the key is revoked (the current secret is public) and its owner gets one mail,
saying so. The old secret handled first used to mail "an old secret was found, the key was
left as it is" before a second mail said it was revoked (SPEC §14: "its owner is emailed")."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import services as key_services
from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import key_status, post_signed, revocations

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("order", ["old first", "current first"])
def test_old_and_current_secret_in_one_alert_revoke_and_mail_once(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
    order: str,
) -> None:
    old, key = world["owner_raw"], world["owner_key"]
    current = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0).key
    tokens = [old, current] if order == "old first" else [current, old]
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(*(match(t) for t in tokens)))
    assert [m["label"] for m in answer.json()] == ["true_positive", "true_positive"]
    assert key_status(api, current) == (401, "KEY_REVOKED")
    (event,) = revocations()
    assert event.changes["leaked_secret"] == "current"
    (mail,) = mailoutbox
    assert "has been revoked" in mail.subject and "left as it is" not in mail.body
    assert old not in mail.body and current not in mail.body
