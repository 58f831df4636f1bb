"""SPEC §11: deployments configure Tater through the environment. A number setting left empty
(``EMAIL_TIMEOUT=`` in a compose file) means its default; a value that is not a number, or one
that would break the guarantee it sets (a lockout after 0 failures, a 0-second timeout), stops
the start with the variable's name instead of a bare ``ValueError`` traceback."""

from __future__ import annotations

import pytest

from tests.tater.starting import start


def test_an_empty_number_setting_means_its_default() -> None:
    done = start(
        "settings.EMAIL_TIMEOUT",
        "settings.TATER_LOCKOUT_CLIENT_FAILURES",
        EMAIL_TIMEOUT="",
        TATER_LOCKOUT_CLIENT_FAILURES=" ",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["10.0", "20"]


def test_zero_is_taken_where_it_means_something() -> None:
    # TATER_USAGE_FLUSH_INTERVAL=0: counts reach the database at exit and by flush_key_usage only.
    assert (
        start(
            "settings.EMAIL_TIMEOUT",
            "settings.TATER_LOCKOUT_CLIENT_FAILURES",
            TATER_USAGE_FLUSH_INTERVAL="0",
            TATER_KEYCHECK_SWEEP_SECONDS="0",
        ).returncode
        == 0
    )


def test_a_number_setting_is_read() -> None:
    done = start(
        "settings.EMAIL_TIMEOUT",
        "settings.TATER_LOCKOUT_CLIENT_FAILURES",
        EMAIL_TIMEOUT="2.5",
        TATER_LOCKOUT_CLIENT_FAILURES="7",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2.5", "7"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EMAIL_TIMEOUT", "ten"),
        ("EMAIL_TIMEOUT", "0"),
        ("EMAIL_TIMEOUT", "nan"),
        ("TATER_LOCKOUT_CLIENT_FAILURES", "0"),
        ("TATER_LOCKOUT_CLIENT_FAILURES", "2.5"),
        ("TATER_TRUSTED_PROXY_COUNT", "-1"),
        ("REDIS_SOCKET_TIMEOUT", "inf"),
    ],
)
def test_a_bad_number_setting_stops_the_start_naming_it(name: str, value: str) -> None:
    done = start("settings.EMAIL_TIMEOUT", "settings.TATER_LOCKOUT_CLIENT_FAILURES", **{name: value})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert f"{name} must be" in done.stderr
    assert "Traceback" in done.stderr  # Django's own start failure, with the message last
    assert done.stderr.strip().splitlines()[-1].endswith(f"(got {value!r}).")
