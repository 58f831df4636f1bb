"""SPEC §11/§12: a ``TATER_METRICS_ALLOWED_IPS`` entry that is no network (``localhost``, a
``;`` for a ``,``) was caught only when the app loaded its middleware: ``manage.py check`` and
``migrate`` in a deploy pipeline passed, and the release failed at its first request. It is
now a system check error (``tater.E041``) naming the setting and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.test_deploy_posture import manage, production_env


@pytest.mark.parametrize("allowed", ["localhost", "10.0.0.0/8;10.1.0.0/16", "10.0.0.0/33"])
def test_a_bad_entry_fails_manage_py_check(tmp_path: Path, allowed: str) -> None:
    env = production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), TATER_METRICS_ALLOWED_IPS=allowed)
    done = manage("check", env=env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "tater.E041" in output and "TATER_METRICS_ALLOWED_IPS" in output and allowed.split(",")[0] in output


def test_good_entries_pass(tmp_path: Path) -> None:
    env = production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), TATER_METRICS_ALLOWED_IPS="10.0.0.0/8, ::1")
    done = manage("check", env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_rate_limit_cache_that_does_not_exist_fails_manage_py_check(tmp_path: Path) -> None:
    # The limiter's cache alias was looked up at each request (InvalidCacheBackendError, a 500).
    env = production_env(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"), TATER_RATELIMIT_BACKEND="cache", TATER_RATELIMIT_CACHE="limits"
    )
    done = manage("check", env=env)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and "tater.E031" in output and "'limits'" in output, output
