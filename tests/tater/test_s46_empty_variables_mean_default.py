"""README Configuration: a variable set but empty (a compose file's unset ``${STATIC_ROOT}``)
means its default, as it already did for numbers, on/off and list variables. Before,
``STATIC_ROOT=`` made ``collectstatic`` write into the working directory, ``SQLITE_PATH=``
opened a database named "", and ``DEFAULT_FROM_EMAIL=`` sent mail from nobody."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAMES = (
    "TATER_VAR_DIR",
    "SQLITE_PATH",
    "STATIC_ROOT",
    "DEFAULT_FROM_EMAIL",
    "OTP_WEBAUTHN_RP_NAME",
    "TATER_RATELIMIT_CACHE",
    "EMAIL_BACKEND",
    "TATER_GITHUB_SECRET_SCANNING_KEYS_URL",
    "CACHE_KEY_PREFIX",
)
READ = (
    "{'TATER_VAR_DIR': str(settings.VAR_DIR), 'SQLITE_PATH': settings.DATABASES['default']['NAME'],"
    " 'STATIC_ROOT': str(settings.STATIC_ROOT), 'DEFAULT_FROM_EMAIL': settings.DEFAULT_FROM_EMAIL,"
    " 'OTP_WEBAUTHN_RP_NAME': settings.OTP_WEBAUTHN_RP_NAME, 'TATER_RATELIMIT_CACHE': settings.TATER_RATELIMIT_CACHE, 'EMAIL_BACKEND': settings.EMAIL_BACKEND,"
    " 'TATER_GITHUB_SECRET_SCANNING_KEYS_URL': settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL,"
    " 'CACHE_KEY_PREFIX': settings.CACHES['default'].get('KEY_PREFIX'),"
    " 'TATER_RATELIMIT_KEY_PREFIX': settings.TATER_RATELIMIT_KEY_PREFIX}"
)


def _settings(**overrides: str) -> dict[str, str]:
    code = f"import json, django; from django.conf import settings; django.setup(); print(json.dumps({READ}))"
    env = {k: v for k, v in os.environ.items() if k not in (*NAMES, "DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, **overrides, "DJANGO_SETTINGS_MODULE": "tater.settings", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_empty_variable_is_its_default() -> None:
    assert _settings(**dict.fromkeys(NAMES, "")) == _settings()
    assert _settings(**dict.fromkeys(NAMES, "  ")) == _settings()
