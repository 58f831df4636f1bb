"""Session 38 review: ``DJANGO_DEBUG=`` (set, but empty) in a production environment.

README's configuration table: ``DJANGO_DEBUG`` is ``0``/``false`` for production (secure
cookies, HSTS, SSL redirect), and the app refuses the development ``SECRET_KEY`` when it is
off. An empty value (``DJANGO_DEBUG: ${DJANGO_DEBUG}`` in a compose file whose shell has it
unset) was read as off until today; reading "empty means the default" made it the development
default, on: the same deployment silently came up with debug pages showing tracebacks and
settings, cookies without Secure, no SSL redirect, identity-provider fetches to private
addresses allowed, and the published development SECRET_KEY accepted. An empty
``DJANGO_DEBUG`` is off again (fail closed); every other on/off variable keeps "empty means
its default". [was failing; fixed]
"""

from __future__ import annotations

import os
import subprocess
import sys

SHOW = (
    "from django.conf import settings; import django; django.setup(); "
    "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.TATER_IDP_FETCH_PRIVATE_ADDRESSES)"
)


def _load(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "TATER_TESTING")}
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**environment, "DJANGO_SETTINGS_MODULE": "tater.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_empty_debug_is_production() -> None:
    done = _load(DJANGO_DEBUG="", SECRET_KEY="x" * 60, ALLOWED_HOSTS="tater.example")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "False"]


def test_an_empty_debug_refuses_the_development_secret_key() -> None:
    done = _load(DJANGO_DEBUG=" ")
    assert done.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_DEBUG is off" in done.stderr.strip().splitlines()[-1]


def test_unset_debug_is_still_development() -> None:
    """Guard (SPEC §11: runs with no configuration)."""
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_DEBUG"}
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        env={**environment, "DJANGO_SETTINGS_MODULE": "tater.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "True"
