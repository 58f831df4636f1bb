"""TigerTrust's sign-in API as its integrators know it (seed 002, SPEC §5a): the JSON
session flow at ``/api/auth/*`` (the core's ``/api/v1/auth/*``), Google sign-in at
``/api/auth/google``, and TigerTrust's error codes."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD
from tests.surfaces.conftest import json_of

pytestmark = pytest.mark.django_db
LOGIN, VERIFY, LOGOUT = "/api/auth/login", "/api/auth/verify-2fa", "/api/auth/logout"


def post(client: Client, url: str, body: dict) -> object:
    return client.post(url, body, content_type="application/json")


def test_login_starts_a_session(world):
    script = Client(enforce_csrf_checks=True)  # a script: no CSRF token needed to sign in
    body = json_of(post(script, LOGIN, {"email": world["owner"].email, "password": PASSWORD}), 200)
    assert body["requires2FA"] is False and body["user"]["user"]["email"] == world["owner"].email
    cookie = script.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert json_of(script.get("/api/v1/me"), 200)["user"]["email"] == world["owner"].email
    assert AuditEvent.objects.filter(action="user.login", actor_user_id=world["owner"].pk, channel="api").exists()


def test_two_factor_flow(world, clock):
    device, _ = enrol(world["owner"], clock.now)
    clock.advance(30)
    client = Client()
    first = json_of(post(client, LOGIN, {"email": world["owner"].email, "password": PASSWORD}), 200)
    assert first["requires2FA"] is True and first["token"]
    assert json_of(client.get("/api/v1/me"), 401)
    done = json_of(post(client, VERIFY, {"token": first["token"], "code": totp_code(device, clock.now)}), 200)
    assert done["requires2FA"] is False
    assert json_of(client.get("/api/v1/me"), 200)["two_factor"]["verified"] is True


def test_bad_code_is_unauthorized(world, clock):
    enrol(world["owner"], clock.now)
    clock.advance(30)
    client = Client()
    token = json_of(post(client, LOGIN, {"email": world["owner"].email, "password": PASSWORD}), 200)["token"]
    body = json_of(post(client, VERIFY, {"token": token, "code": "000000"}), 401)
    assert body["error"] == "UNAUTHORIZED" and body["details"]["tater_error"] == "INVALID_OTP"


def test_failed_credentials_use_tigertrusts_code(world):
    body = json_of(post(Client(), LOGIN, {"email": world["owner"].email, "password": "wrong"}), 401)
    assert body["error"] == "UNAUTHORIZED" and body["message"] == "Invalid email or password"
    assert body["details"]["tater_error"] == "INVALID_CREDENTIALS"


def test_bad_body_is_a_validation_error(world):
    body = json_of(post(Client(), LOGIN, {"email": "not-an-email"}), 400)
    assert body["error"] == "VALIDATION_ERROR" and {"email", "password"} <= set(body["details"]["fields"])


def test_logout_ends_the_session(world):
    client = Client()
    json_of(post(client, LOGIN, {"email": world["owner"].email, "password": PASSWORD}), 200)
    assert client.post(LOGOUT, content_type="application/json").status_code == 204
    assert json_of(client.get("/api/v1/me"), 401)
    body = json_of(client.post(LOGOUT, content_type="application/json"), 401)
    assert body["error"] == "UNAUTHORIZED"


def test_logout_needs_the_csrf_token_like_any_session_write(world):
    browser = Client(enforce_csrf_checks=True)
    json_of(post(browser, LOGIN, {"email": world["owner"].email, "password": PASSWORD}), 200)
    body = json_of(browser.post(LOGOUT, content_type="application/json"), 403)
    assert body["error"] == "FORBIDDEN" and "CSRF" in body["message"]
    assert body["details"]["tater_error"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("url", ["/api/auth/google", "/api/auth/google/callback", "/api/auth/google/"])
def test_google_without_an_app_is_a_json_404(url):
    body = json_of(Client().get(url), 404)
    assert body["error"] == "NOT_FOUND"


def test_google_with_an_app_goes_to_allauths_google_sign_in(db):
    SocialApp.objects.create(provider="google", name="Google", client_id="cid.apps.googleusercontent.com", secret="s")
    start = Client().get("/api/auth/google?next=/keys/")
    assert start.status_code == 302 and start["Location"] == reverse("google_login") + "?next=/keys/"
    back = Client().get("/api/auth/google/callback?code=abc&state=xyz")
    assert back.status_code == 302 and back["Location"] == reverse("google_callback") + "?code=abc&state=xyz"


def test_google_takes_no_posts():
    body = json_of(Client().post("/api/auth/google"), 405)
    assert body["error"] == "METHOD_NOT_ALLOWED"
