"""Bench-only settings: the app's settings plus the two Django peers it is compared with.

The middleware stack, authentication classes and caches are the app's own. The only
behavioural change is a rate-limit plan high enough that the limiter (still on, still
counting) admits every bench request.
"""

from __future__ import annotations

import os
import warnings

from tater.settings import *  # noqa: F403
from tater.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken", "rest_framework_api_key"]
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
# WhiteNoise warns that collectstatic never ran: the bench serves no static files.
warnings.filterwarnings("ignore", message="No directory at")

# Never a manifest lookup on the bench path (DEBUG is off for production-like timing).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The bench tenant is on "enterprise": a plan the bench raises so nothing is rejected.
TATER_PLAN_RATE_LIMITS = {"free": (60, 1_000), "pro": (300, 10_000), "enterprise": (10**9, 10**9)}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# Flatness runs: a second database ("big") with the large tables, picked per request by
# bench.router so one process can interleave the small and the big data set.
_big_url = os.environ.get("BENCH_BIG_DATABASE_URL", "")
_big_sqlite = os.environ.get("BENCH_BIG_SQLITE_PATH", "")
if _big_url or _big_sqlite:
    if _big_url:
        import dj_database_url

        DATABASES["big"] = {**dj_database_url.parse(_big_url, conn_max_age=60, conn_health_checks=True), "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {}))}
    else:
        DATABASES["big"] = {**DATABASES["default"], "NAME": _big_sqlite}
    DATABASE_ROUTERS = ["bench.router.SwitchRouter"]
