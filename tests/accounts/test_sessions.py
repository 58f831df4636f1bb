"""Server-side sessions: sign out everywhere, deactivation, cookie flags in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

from accounts.models import UserSession
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def signed_in(user: Any) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_sign_out_everywhere_ends_every_session() -> None:
    user = UserFactory()
    bystander = UserFactory()
    laptop, phone, other = signed_in(user), signed_in(user), signed_in(bystander)
    assert UserSession.objects.filter(user=user).count() == 2
    response = laptop.post("/accounts/security/sign-out-everywhere/")
    assert response.status_code == 302
    assert laptop.get("/api/v1/me").status_code == 401
    assert phone.get("/api/v1/me").status_code == 401
    assert not UserSession.objects.filter(user=user).exists()
    assert other.get("/api/v1/me").status_code == 200


def test_security_page_lists_sessions() -> None:
    user = UserFactory()
    client = signed_in(user)
    page = client.get("/accounts/security/").content.decode()
    assert "(this session)" in page and "Sign out everywhere" in page


def test_deactivating_a_user_ends_sessions_and_kills_keys(world: dict[str, Any]) -> None:
    member = world["member"]
    client = signed_in(member)
    assert Client().get("/api/v1/auth/validate", HTTP_X_API_KEY=world["member_raw"]).status_code == 200  # cached now
    member.is_active = False
    member.save()
    assert (
        not Session.objects.filter(session_key__in=UserSession.objects.values("session_key"))
        .filter(session_key=client.cookies["sessionid"].value)
        .exists()
    )
    assert client.get("/api/v1/me").status_code == 401
    response = Client().get("/api/v1/auth/validate", HTTP_X_API_KEY=world["member_raw"])
    assert response.status_code == 401


PROD_SCRIPT = """
import json
from django.conf import settings
names = ["SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_AGE",
         "SESSION_ENGINE", "CSRF_COOKIE_SECURE"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def test_session_cookie_flags_under_production_settings(api: Any) -> None:
    # The production settings as the settings module computes them (DEBUG off)...
    env = {**os.environ, "DJANGO_DEBUG": "0", "SECRET_KEY": "x" * 60, "DJANGO_SETTINGS_MODULE": "tater.settings"}
    result = subprocess.run(
        [sys.executable, "-c", PROD_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    prod = json.loads(result.stdout.strip().splitlines()[-1])
    assert prod == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Strict",
        "SESSION_COOKIE_AGE": 7 * 24 * 3600,
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "CSRF_COOKIE_SECURE": True,
    }
    # ... applied to a real sign-in: the cookie the browser gets carries every flag.
    user = UserFactory()
    with override_settings(**prod):
        response = api.post(
            "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json", secure=True
        )
    cookie = response.cookies["sessionid"]
    assert response.status_code == 200
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Strict"
    assert cookie["max-age"] == 7 * 24 * 3600
    assert Session.objects.filter(session_key=cookie.value).exists()  # stored server-side
