"""README's configuration table: ``TATER_RATELIMIT_BACKEND`` is ``redis``, ``cache`` or
``inprocess``. Any other value (a typo, ``memcached``) was read as given and raised a bare
ValueError on the first request (each request then failed), and ``redis`` without
``REDIS_URL`` failed each request with "REDIS_URL is not set". Now, like the other settings
with a list of values, the start stops naming the variable and the values it takes; the
documented values, in any case, still start."""

from __future__ import annotations

import pytest

from tests.tater.starting import refusal, start


@pytest.mark.parametrize("value", ["bogus", "memcached", "in-process"])
def test_a_value_outside_the_list_stops_the_start_naming_it(value: str) -> None:
    done = start(TATER_RATELIMIT_BACKEND=value)
    assert done.returncode != 0 and "started" not in done.stdout
    last = refusal(done)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured"), last
    assert "TATER_RATELIMIT_BACKEND" in last and "redis, cache, inprocess" in last, last


def test_redis_without_a_redis_url_stops_the_start() -> None:
    done = start(TATER_RATELIMIT_BACKEND="redis")
    assert done.returncode != 0 and "started" not in done.stdout
    last = refusal(done)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured"), last
    assert "TATER_RATELIMIT_BACKEND" in last and "REDIS_URL" in last, last


@pytest.mark.parametrize(("value", "read"), [("inprocess", "inprocess"), ("Cache", "cache"), ("", ""), (" ", "")])
def test_the_documented_values_start(value: str, read: str) -> None:
    done = start("repr(settings.TATER_RATELIMIT_BACKEND)", TATER_RATELIMIT_BACKEND=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(read)


def test_redis_with_a_redis_url_starts() -> None:
    done = start(TATER_RATELIMIT_BACKEND="REDIS", REDIS_URL="redis://127.0.0.1:6379/12")
    assert done.returncode == 0 and "started" in done.stdout, done.stderr
