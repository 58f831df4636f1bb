"""SPEC §11/§12: ``check --deploy`` is clean under production settings, and ``/metrics`` is
restricted by ``TATER_METRICS_ALLOWED_IPS`` or a bearer token. An allowlist naming every
address (``0.0.0.0/0``, ``::/0``: "let Prometheus in from anywhere") restricts nothing: the
metrics (routes, refusal and lockout counts) are public, and ``check --deploy`` said nothing.
It now warns (``tater.W040``) naming the setting; loopback, private networks and the token
stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hardening.test_deploy_posture import manage, production_env

SERVICES = {"DATABASE_URL": "postgres://tater@db.internal:5432/tater", "REDIS_URL": "redis://cache.internal:6379/0"}


def check_deploy(tmp_path: Path, **extra: str) -> tuple[int, str]:
    env = production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), **SERVICES, **extra)
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("allowed", ["0.0.0.0/0", "10.0.0.0/8,::/0", "0.0.0.0/0,::/0"])
def test_metrics_open_to_every_address_is_a_deploy_warning(tmp_path: Path, allowed: str) -> None:
    code, output = check_deploy(tmp_path, TATER_METRICS_ALLOWED_IPS=allowed)
    assert code != 0, output
    assert "tater.W040" in output and "TATER_METRICS_ALLOWED_IPS" in output, output


@pytest.mark.parametrize(
    "extra",
    [
        {"TATER_METRICS_ALLOWED_IPS": "10.0.0.0/8,2001:db8::/32"},
        {"TATER_METRICS_ALLOWED_IPS": "", "TATER_METRICS_TOKEN": "t" * 40},
        {},
    ],
    ids=["private-networks", "token-only", "default"],
)
def test_restricted_metrics_stay_clean(tmp_path: Path, extra: dict[str, str]) -> None:
    code, output = check_deploy(tmp_path, **extra)
    assert code == 0, output
    assert "System check identified no issues" in output, output
