"""Starting the app in a process of its own, for tests of settings read from the environment
(settings are read once per process): this process's environment, with the variables a test
sets on top (``DATABASE_URL`` and ``REDIS_URL`` cleared unless it sets them, so a run on
PostgreSQL + Redis starts the same embedded default as one on SQLite)."""

from __future__ import annotations

import os
import subprocess
import sys


def start(*shown: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``django.setup()`` under ``env``, then one line printing each expression of ``shown``
    (Python over ``settings``, e.g. ``"settings.EMAIL_TIMEOUT"``)."""
    code = "from django.conf import settings; import django; django.setup(); "
    code += f"print({', '.join(shown)})" if shown else "print('started')"
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tater.settings", "DATABASE_URL": "", "REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The line a failed start ends with (Django prints the exception last)."""
    return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
