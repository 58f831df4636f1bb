"""GitHub retries an alert whose answer it did not get (a timeout, a connection reset after
Tater had acted). The same body again used to be a 401 "Replayed GitHub payload": the
retry never got its labels, and GitHub saw a failing endpoint. A body seen before (the
same signature, or a malleated one) is now answered 200 with the labels, and nothing is
done again: no second revocation, audit entry or mail (the replay protection stands)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import P256_ORDER, post, revocations

pytestmark = pytest.mark.django_db


def test_a_retried_alert_gets_the_same_labels_and_changes_nothing(
    api: Any,
    world: dict[str, Any],
    github: Any,
    signing_key: Any,
    mailoutbox: list,
    django_capture_on_commit_callbacks: Any,
) -> None:
    body = alert(match(world["owner_raw"]), match("tater_" + "7" * 32))
    headers = signing_key.headers(body)
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, body, headers)
    assert first.status_code == 200
    assert [item["label"] for item in first.json()] == ["true_positive", "false_positive"]
    r, s = decode_dss_signature(base64.b64decode(headers["HTTP_GITHUB_PUBLIC_KEY_SIGNATURE"]))
    malleated = base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()
    for again in (headers, dict(headers, HTTP_GITHUB_PUBLIC_KEY_SIGNATURE=malleated), signing_key.headers(body)):
        with django_capture_on_commit_callbacks(execute=True):
            retry = post(api, body, again)
        assert retry.status_code == 200, retry.content
        assert retry.json() == first.json()
    assert len(revocations()) == 1 and len(mailoutbox) == 1


def test_a_replay_still_needs_a_valid_signature(api: Any, world: dict[str, Any], github: Any, signing_key: Any) -> None:
    body = alert(match(world["owner_raw"]))
    assert post(api, body, signing_key.headers(body)).status_code == 200
    forged = dict(signing_key.headers(b"[]"))
    assert post(api, body, forged).status_code == 401
