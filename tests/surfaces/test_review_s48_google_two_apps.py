"""SPEC §3 (never a 500 for a request; every response under the seed systems' paths JSON in that
system's format) and §5a (TigerTrust's ``GET /api/auth/google``: a redirect when Google is
configured, a JSON 404 when not): with two visible Google applications saved (a second one added
in the admin, say), allauth cannot choose and the path answered 500. It now answers 503
``SERVICE_UNAVAILABLE`` in the catalog format, saying what the operator must fix, and ``manage.py
check --database default`` warns of it; one of the two marked hidden (allauth's own way to keep a
spare) is a redirect again."""

from __future__ import annotations

import io

import pytest
from allauth.socialaccount.models import SocialApp
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.surfaces.conftest import json_of

pytestmark = pytest.mark.django_db


def _google(name: str, **settings: object) -> SocialApp:
    return SocialApp.objects.create(
        provider="google", name=name, client_id=f"{name}.apps.googleusercontent.com", secret="s", settings=settings
    )


def _check_output() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("check", "--database", "default", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("url", ["/api/auth/google", "/api/auth/google/callback?code=a&state=b"])
def test_two_google_apps_are_a_json_503_naming_the_cause(url):
    _google("first")
    _google("second")
    body = json_of(Client(raise_request_exception=False).get(url), 503)
    assert body["error"] == "SERVICE_UNAVAILABLE"
    assert "Google" in body["message"] and "several" in body["message"].lower()


def test_the_operator_check_warns_of_them():
    _google("first")
    assert "Google" not in _check_output()
    _google("second")
    warned = _check_output()
    assert "accounts.W002" in warned and "google" in warned.lower(), warned


def test_one_of_them_hidden_is_a_redirect_again():
    _google("first")
    _google("spare", hidden=True)
    start = Client().get("/api/auth/google")
    assert start.status_code == 302 and start["Location"] == reverse("google_login")
    assert "accounts.W002" not in _check_output()
