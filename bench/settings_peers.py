"""HTTP load rounds only (gunicorn + wrk, bench.seed, the stale probe): bench.settings
plus the two Django peers Tater is compared with, and a rate-limit plan high enough that
the limiter (still on, still counting) admits every load request.

Not used by the in-process ratio harness (bench.ratio), which runs the app's settings.
"""

from __future__ import annotations

from bench.settings import *  # noqa: F403
from bench.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework.authtoken", "rest_framework_api_key"]
ROOT_URLCONF = "bench.urls_peers"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

# Never a manifest lookup on the load path (DEBUG is off, collectstatic never ran).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The load tenant is on "enterprise": raised so wrk's thousands of requests a second on one
# key are counted, not rejected.
TATER_PLAN_RATE_LIMITS = {"free": (60, 1_000), "pro": (300, 10_000), "enterprise": (10**9, 10**9)}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}},
}
