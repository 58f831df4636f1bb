"""SPEC §14 ("every matching active key is revoked at once … its owner is emailed"). A key
whose secret leaked and was rotated through itself (the finder's move: the new secret went to
whoever held the old one), then rotated again by its owner in the UI. An alert holding both old
secrets, the UI-retired one first, revokes the key (the first rotation handed its secret to the
finder) and its owner gets one mail saying so. The owner used to get two: first "an old secret
was found, the key was left as it is", then "revoked" (found by review E)."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import services as key_services
from apikeys.models import ApiKey
from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import key_status, post_signed, revocations

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("order", ["owner's rotation first", "finder's rotation first"])
def test_two_old_secrets_of_one_key_revoke_it_and_mail_once(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
    order: str,
) -> None:
    first, key = world["owner_raw"], world["owner_key"]
    through_itself = api.post(
        f"/api/v1/keys/{key.public_id}/rotate/",
        {"grace_period_seconds": 0},
        content_type="application/json",
        HTTP_X_API_KEY=first,
    )
    assert through_itself.status_code == 200, through_itself.content
    second = through_itself.json()["key"]
    current = key_services.apikey_rotate(
        api_key=ApiKey.objects.get(pk=key.pk), actor=world["owner"], grace_period_seconds=0
    ).key
    tokens = [second, first] if order == "owner's rotation first" else [first, second]

    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(*(match(t) for t in tokens)))

    assert [m["label"] for m in answer.json()] == ["true_positive", "true_positive"]
    assert key_status(api, current) == (401, "KEY_REVOKED")
    assert len(revocations()) == 1
    (mail,) = mailoutbox
    assert "has been revoked" in mail.subject and "left as it is" not in mail.body
    assert first not in mail.body and second not in mail.body and current not in mail.body
