"""Review s40 (A): GitHub's secret-scanning endpoint from the attacker's side (SPEC §14).

GitHub's partner documentation asks a provider to treat every secret it reports as public
and compromised. Whoever found the secret in public may already have used it before the
alert arrived (bots scrape public pushes within seconds): what they could have turned it
into must die with it."""

from __future__ import annotations

from typing import Any

import pytest

from apikeys import services as key_services
from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import key_status, post_signed, revocations

pytestmark = pytest.mark.django_db


def test_a_key_rotated_through_its_leaked_secret_is_revoked_with_it(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The finder rotates the key with the secret they found (a key rotates itself through
    the API) and no grace period: the secret in public is then a rotated-out one "past its
    grace", and the key, whose new secret only the finder holds, used to be left working
    while its owner was told the key "was left as it is"."""
    leaked, key = world["owner_raw"], world["owner_key"]
    response = api.post(
        f"/api/v1/keys/{key.public_id}/rotate/",
        {"grace_period_seconds": 0},
        content_type="application/json",
        HTTP_X_API_KEY=leaked,
    )
    assert response.status_code == 200, response.content
    finders = response.json()["key"]
    assert key_status(api, finders) == (200, None)

    body = alert(match(leaked))
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, body)

    assert answer.status_code == 200, answer.content
    assert answer.json()[0]["label"] == "true_positive"
    assert key_status(api, finders) == (401, "KEY_REVOKED")
    (event,) = revocations()
    assert event.target_id == key.public_id
    assert event.changes["reason"] == "leaked" and event.changes["leaked_secret"] == "previous"
    (mail,) = mailoutbox
    assert "has been revoked" in mail.subject
    assert "left as it is" not in mail.body and "rotated through the API" in mail.body
    assert leaked not in mail.body and finders not in mail.body


def test_a_key_its_owner_rotated_signed_in_stays_when_its_old_secret_leaks(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The new secret went to the owner's session, not to whoever held the old one: the
    key is left working (the old secret no longer works), as before."""
    leaked, key = world["owner_raw"], world["owner_key"]
    current = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0).key
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(match(leaked)))
    assert answer.json()[0]["label"] == "true_positive"
    assert key_status(api, current) == (200, None)
    assert revocations() == []
    (mail,) = mailoutbox
    assert "revoked" not in mail.subject


def test_a_key_rotated_twice_through_itself_is_still_revoked(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A finder who rotates twice pushes the secret in public out of the key's one
    previous digest: it used to be a ``false_positive`` that nobody was told of, and the
    finder kept the key."""
    leaked, key = world["owner_raw"], world["owner_key"]
    secret = leaked
    for _ in range(2):
        response = api.post(
            f"/api/v1/keys/{key.public_id}/rotate/",
            {"grace_period_seconds": 0},
            content_type="application/json",
            HTTP_X_API_KEY=secret,
        )
        assert response.status_code == 200, response.content
        secret = response.json()["key"]
    assert key_status(api, secret) == (200, None)

    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(match(leaked)))

    assert answer.json()[0]["label"] == "true_positive"
    assert key_status(api, secret) == (401, "KEY_REVOKED")
    (event,) = revocations()
    assert event.target_id == key.public_id and event.changes["reason"] == "leaked"
    assert event.changes["rotated_through_itself"] is True
    (mail,) = mailoutbox
    assert "has been revoked" in mail.subject and "rotated through the API" in mail.body


def test_a_secret_rotations_ago_is_still_recognised_and_its_owner_told(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Rotated twice by its owner, signed in: the old secret works no more and the key is
    left working, but it is a secret Tater issued (a true positive, as GitHub's feedback
    asks) and its owner learns where it was published."""
    leaked, key = world["owner_raw"], world["owner_key"]
    for _ in range(2):
        current = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=0).key
        key.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(match(leaked)))
    assert answer.json()[0]["label"] == "true_positive"
    assert key_status(api, current) == (200, None)
    assert revocations() == []
    (mail,) = mailoutbox
    assert "old secret" in mail.subject and "revoked" not in mail.subject
    assert leaked not in mail.body


@pytest.mark.parametrize("empty", ["url", "source", "both"])
def test_a_match_whose_url_or_source_is_null_is_still_revoked(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
    empty: str,
) -> None:
    """GitHub's documentation says a match's url "may be empty" (an npm package, a
    commit's metadata): a null there used to make the whole signed alert a 400
    VALIDATION_ERROR, and none of its keys (the other matches' neither) was revoked."""
    leaked, other = world["owner_raw"], world["member_raw"]
    found: dict[str, Any] = dict(match(leaked), source="npm")
    nulled = ("url", "source") if empty == "both" else (empty,)
    for field in nulled:
        found[field] = None
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(api, signing_key, alert(found, match(other)))
    assert answer.status_code == 200, answer.content
    assert [item["label"] for item in answer.json()] == ["true_positive", "true_positive"]
    assert key_status(api, leaked) == (401, "KEY_REVOKED")
    assert key_status(api, other) == (401, "KEY_REVOKED")
    event = next(e for e in revocations() if e.target_id == world["owner_key"].public_id)
    assert event.changes["reason"] == "leaked" and all(event.changes[field] == "" for field in nulled)
    assert len(mailoutbox) == 2
