"""Session 40 review B: TigerTrust's Google sign-in paths answered another method with a
CSRF refusal (SPEC §3 catalog, §5a).

``/api/auth/google`` and ``/api/auth/google/callback`` take GET (and HEAD) only. A script
posting there (no cookie, no CSRF token: every API client) got ``403 PERMISSION_DENIED "CSRF
Failed: CSRF cookie not set."`` instead of ``405 METHOD_NOT_ALLOWED`` with ``Allow``: the
only plain Django views under /api/ that Django's CSRF check reached before the method was
looked at. ``PERMISSION_DENIED`` is not even one of TigerTrust's codes (its envelope folds a
403 into ``FORBIDDEN``), and a signed-in browser session got the same 403. Every other path
under /api/ and the seed prefixes answers a wrong method 405 (tests/tater/test_json_everywhere.py).
The existing test (test_tigertrust.py::test_google_takes_no_posts) used Django's test client,
which skips CSRF checks, so it could not see this. [was failing; fixed]
"""

from __future__ import annotations

import json

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

GOOGLE_PATHS = ["/api/auth/google", "/api/auth/google/callback"]


def method_not_allowed(response) -> dict:
    assert response.status_code == 405, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response["Allow"] == "GET, HEAD"
    body = json.loads(response.content)
    assert body["error"] == "METHOD_NOT_ALLOWED" and body["request_id"] == response["X-Request-ID"], body
    return body


@pytest.mark.parametrize("path", GOOGLE_PATHS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_script_gets_405_not_a_csrf_refusal(path, method):
    script = Client(enforce_csrf_checks=True)  # as curl, requests or any SDK: no cookie, no token
    method_not_allowed(script.generic(method, path, b"{}", content_type="application/json"))


@pytest.mark.parametrize("path", GOOGLE_PATHS)
def test_a_signed_in_session_gets_405_too(world, path):
    browser = Client(enforce_csrf_checks=True)
    signed_in = browser.post(
        "/api/v1/auth/login",
        {"email": world["owner"].email, "password": PASSWORD},
        content_type="application/json",
    )
    assert signed_in.status_code == 200, signed_in.content
    method_not_allowed(browser.post(path, b"{}", content_type="application/json"))


@pytest.mark.parametrize("path", GOOGLE_PATHS)
def test_a_post_with_google_configured_is_still_refused(path):
    """The exemption opens no way into allauth's Google flow: only GET and HEAD go there."""
    SocialApp.objects.create(provider="google", name="Google", client_id="cid.apps.googleusercontent.com", secret="s")
    method_not_allowed(Client(enforce_csrf_checks=True).post(path))
    assert Client(enforce_csrf_checks=True).get(path).status_code == 302
