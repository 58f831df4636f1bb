"""SPEC §11 and the README's configuration table: an on/off variable reads ``1``/``true``/
``yes``/``on`` and ``0``/``false``/``no``/``off``. Anything else used to be taken as off
without a word: ``TATER_RATELIMIT_FAIL_OPEN=maybe`` made a Redis outage answer 503 to every
API request, ``REDIS_CLUSTER=ture`` spoke to one node of a cluster, ``SECURE_SSL_REDIRECT=yes
please`` served plain http. Now such a value stops the start naming the variable, as a bad
number does."""

from __future__ import annotations

import pytest

from tests.tater.starting import start

SHOWN = ("settings.TATER_RATELIMIT_FAIL_OPEN", "settings.REDIS_CLUSTER", "settings.TATER_ALLOW_BEARER_KEYS")
NAMES = "TATER_RATELIMIT_FAIL_OPEN CACHE_FAIL_SOFT REDIS_CLUSTER TATER_ALLOW_BEARER_KEYS".split()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", "False"), ("off", "False"), ("No", "False"), (" FALSE ", "False"), ("1", "True"), ("on", "True")],
)
def test_the_documented_spellings_are_read(value: str, expected: str) -> None:
    done = start(*SHOWN, TATER_RATELIMIT_FAIL_OPEN=value, REDIS_CLUSTER=value, TATER_ALLOW_BEARER_KEYS=value)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected] * 3


def test_an_empty_value_means_the_default() -> None:
    done = start(*SHOWN, TATER_RATELIMIT_FAIL_OPEN="", REDIS_CLUSTER=" ", TATER_ALLOW_BEARER_KEYS="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False"]


@pytest.mark.parametrize("value", ["maybe", "ture", "2", "yes please"])
@pytest.mark.parametrize("name", [*NAMES, "DJANGO_DEBUG"])
def test_an_unknown_boolean_stops_the_start_naming_it(name: str, value: str) -> None:
    done = start(*SHOWN, **{name: value})
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert f"{name} must be" in last and repr(value) in last
