"""The system check that makes an unshared cache in production loud."""

from __future__ import annotations

import pytest

from tater.checks import shared_cache_check

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:6379/3"}}


def ids(settings):
    return sorted(w.id for w in shared_cache_check(None))


@pytest.fixture
def prod(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    return settings


def test_quiet_in_development(settings, monkeypatch):
    settings.DEBUG = True
    settings.REDIS_URL = ""
    settings.CACHES = LOCMEM
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert ids(settings) == []


def test_production_without_redis_url(prod):
    prod.REDIS_URL = ""
    prod.CACHES = LOCMEM
    assert ids(prod) == ["tater.W010"]


@pytest.mark.parametrize(
    ("env", "value"),
    [("WEB_CONCURRENCY", "4"), ("GUNICORN_CMD_ARGS", "-w 3 --bind 0.0.0.0:8000"), ("GUNICORN_CMD_ARGS", "--workers=2")],
)
def test_production_locmem_with_several_workers(prod, monkeypatch, env, value):
    prod.REDIS_URL = ""
    prod.CACHES = LOCMEM
    monkeypatch.setenv(env, value)
    warnings = shared_cache_check(None)
    assert sorted(w.id for w in warnings) == ["tater.W010", "tater.W011"]
    assert "worker processes" in next(w.msg for w in warnings if w.id == "tater.W011")


def test_production_on_redis_is_clean(prod, monkeypatch):
    prod.REDIS_URL = "redis://127.0.0.1:6379/3"
    prod.CACHES = REDIS
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    assert ids(prod) == []


def test_single_worker_locmem_only_warns_about_redis(prod, monkeypatch):
    prod.REDIS_URL = ""
    prod.CACHES = LOCMEM
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert ids(prod) == ["tater.W010"]


@pytest.mark.parametrize(
    ("name", "value", "bad"),
    [
        ("TATER_SCIM_RATE_LIMITS", (600, 20_000), False),
        ("TATER_SCIM_RATE_LIMITS", (0, 100), True),  # would refuse every SCIM request with a 500
        ("TATER_SCIM_RATE_LIMITS", (5,), True),
        ("TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS", ("120", 2000), True),
        ("TATER_GITHUB_SECRET_SCANNING_RATE_LIMITS", (120, 2000), False),
    ],
)
def test_minute_and_hour_limits_are_checked_at_start(settings, name, value, bad):
    from tater.checks import rate_limit_settings_check

    setattr(settings, name, value)
    assert [e.id for e in rate_limit_settings_check(None)] == (["tater.E030"] if bad else [])


def test_plan_limits_are_checked_at_start(settings):
    from tater.checks import rate_limit_settings_check

    settings.TATER_PLAN_RATE_LIMITS = {"free": (60, 1000), "pro": (0, 10_000)}
    errors = rate_limit_settings_check(None)
    assert [e.id for e in errors] == ["tater.E030"] and "'pro'" in errors[0].msg
