"""GitHub's key document is fetched again every hour. When that fetch fails (GitHub's API
down, its unauthenticated rate limit reached from a shared address), every alert was a 503
until a fetch worked again, though the keys fetched an hour earlier still verify GitHub's
signatures. The last keys fetched are used for a day after they expire when a fetch fails
(stale-if-error); a body still needs a valid signature under them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from tests.leaks.conftest import alert, match
from tests.leaks.test_github_secret_scanning import post, post_signed

pytestmark = pytest.mark.django_db


def expire_fetched_keys(settings: Any) -> None:
    # The hour has passed: what a fresh fetch would have replaced is no longer trusted as
    # current (the test's cache keeps entries for KEYS_CACHE_SECONDS).
    settings.TATER_GITHUB_SECRET_SCANNING_KEYS_CACHE_SECONDS = 3600
    from leaks import github as module

    cache.delete(module.KEYS_CACHE_KEY)


def test_an_alert_is_verified_with_the_last_keys_when_github_fails(
    api: Any, github: Any, signing_key: Any, settings: Any
) -> None:
    assert post_signed(api, signing_key, alert(match("tater_" + "1" * 32))).status_code == 200
    expire_fetched_keys(settings)
    github.status = 500
    r = post_signed(api, signing_key, alert(match("tater_" + "2" * 32)))
    assert r.status_code == 200, r.content
    body = alert(match("tater_" + "3" * 32))
    assert post(api, body, signing_key.headers(alert())).status_code == 401  # still a signature check


def test_with_no_keys_ever_fetched_a_failure_is_still_a_503(api: Any, github: Any, signing_key: Any) -> None:
    github.status = 500
    r = post_signed(api, signing_key, alert(match("tater_" + "4" * 32)))
    assert r.status_code == 503
