"""Deploy posture (OWASP ASVS V14 configuration, V3 session management, V4 CSRF):
``check --deploy`` clean under production settings, refusal of the development secret,
security headers, CSRF on every UI form and on session-authenticated API writes, and
clickjacking protection."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tater import settings as tater_settings
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
STRONG_SECRET = secrets.token_urlsafe(50)


def production_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TATER_TESTING", "DJANGO_DEBUG")
    }
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=STRONG_SECRET,
        ALLOWED_HOSTS="tater.example.com,testserver",
        DJANGO_SETTINGS_MODULE="tater.settings",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv, our own manage.py
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Production is PostgreSQL + Redis (SPEC §11). The embedded default under DEBUG=0 rightly
# warns (tater.W010: limits and lockouts counted per process), so it is not checked here.
@pytest.mark.parametrize(
    "services",
    [
        pytest.param(
            {"DATABASE_URL": "postgres://tater@db.internal:5432/tater", "REDIS_URL": "redis://cache.internal:6379/0"},
            id="postgres-redis",
        ),
    ],
)
def test_check_deploy_reports_nothing(services: dict[str, str], tmp_path: Path) -> None:
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"), **services),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize("secret", [None, tater_settings.DEV_SECRET_KEY], ids=["unset", "development-key"])
def test_refuses_to_start_with_the_development_secret(secret: str | None, tmp_path: Path) -> None:
    env = production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    env.pop("SECRET_KEY")
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr


PROBE = r"""
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.test import Client
client = Client()
out = {}
for path in ("/api/v1/health", "/api/v1/keys/", "/api/v1/no-such-endpoint", "/accounts/login/"):
    response = client.get(path, secure=True)
    out[path] = {"status": response.status_code, "headers": dict(response.headers.items())}
response = client.get("/accounts/login/")
out["plain-http"] = {"status": response.status_code, "headers": dict(response.headers.items())}
response = client.post("/api/v1/keys/", {"name": "x"}, content_type="application/json", HTTP_X_API_KEY="tater_" + "0" * 32)
out["plain-http-api"] = {"status": response.status_code, "headers": dict(response.headers.items()),
                         "body": response.content.decode()}
print("PROBE" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_responses() -> dict[str, Any]:
    # TATER_TESTING only swaps the manifest static storage (which needs collectstatic) for
    # the plain one so templates render; every security setting is the production one.
    env = production_env(SQLITE_PATH=":memory:", TATER_TESTING="1")
    result = subprocess.run(  # noqa: S603 - fixed argv
        [PYTHON, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    line = next((x for x in result.stdout.splitlines() if x.startswith("PROBE")), None)
    assert line is not None, result.stdout[-2000:] + result.stderr[-4000:]
    return json.loads(line[len("PROBE") :])


def _csp_directives(value: str) -> dict[str, list[str]]:
    directives = {}
    for part in value.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/keys/", "/api/v1/no-such-endpoint", "/accounts/login/"])
def test_production_security_headers(production_responses: dict[str, Any], path: str) -> None:
    seen = production_responses[path]
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert seen["status"] < 500, seen
    hsts = headers.get("strict-transport-security", "")
    assert re.search(r"max-age=(\d+)", hsts) and int(re.search(r"max-age=(\d+)", hsts)[1]) >= 31_536_000, hsts
    assert "includesubdomains" in hsts.lower()
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") in {
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
        "strict-origin",
    }
    assert headers.get("x-frame-options") == "DENY"
    csp = _csp_directives(headers.get("content-security-policy", ""))
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src is not None, headers.get("content-security-policy")
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "*" not in script_src
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("object-src") == ["'none'"]


def test_production_redirects_plain_http(production_responses: dict[str, Any]) -> None:
    seen = production_responses["plain-http"]
    assert seen["status"] == 301
    assert {k.lower(): v for k, v in seen["headers"].items()}["location"].startswith("https://")


def test_production_refuses_plain_http_on_the_api_instead_of_redirecting(production_responses: dict[str, Any]) -> None:
    """A redirect tells an API client to send the request again (clients re-send a POST as a
    GET, which then succeeds) after its key already travelled in clear: the API refuses, in
    JSON, and says so (GitHub's API answers plain HTTP with a 403 the same way)."""
    seen = production_responses["plain-http-api"]
    assert seen["status"] == 403
    assert "location" not in {k.lower() for k in seen["headers"]}
    body = json.loads(seen["body"])
    assert body["error"] == "HTTPS_REQUIRED" and "https" in body["message"].lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/health", "/api/v1/keys/", "/api/v1/nope", "/accounts/login/", "/no-such-page/"]
)
def test_headers_on_every_kind_of_response(client: Client, path: str) -> None:
    response = client.get(path)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"]
    csp = _csp_directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in csp.get("script-src", csp.get("default-src", []))


# --- CSRF and clickjacking over the whole URL conf --------------------------------------------

# Views that legitimately skip Django's CSRF middleware, with the reason.
CSRF_EXEMPT_OK = {
    # DRF marks every APIView csrf_exempt and enforces CSRF itself for session-authenticated
    # requests (SessionAuthentication.enforce_csrf); key-authenticated calls need none.
    "api/": "DRF API views: CSRF enforced by SessionAuthentication (tested below)",
    # Any other path under /api (and /api itself): tater.urls' JSON 404, which reads nothing.
    "api(?:/|$)": "/api's unknown paths: the catalog's 404, no authenticator",
    # SAML: the IdP posts the assertion cross-site; its signature is the integrity check.
    "accounts/saml/": "SAML assertion consumer / single logout: signed IdP POSTs",
    # allauth's Google One Tap endpoint checks Google's double-submit g_csrf_token cookie
    # and the signed ID token itself (allauth.socialaccount.providers.google.views).
    "accounts/google/login/token/": "Google One Tap: double-submit cookie + signed ID token",
    # SCIM: the identity provider calls with a bearer SCIM token only; no cookie authenticates.
    "scim/v2/": "SCIM 2.0: bearer SCIM token only, never a session cookie",
    # /scim/v2 itself and any other path under /scim: SCIM's 404 (scim.urls), same authenticator.
    "scim(?:/|$)": "/scim's unknown paths: SCIM's 404 after its bearer-token authentication",
    # The seed systems' surfaces (surfaces/): DRF views like the API's. Tatry and taap.it
    # take keys only (no session authenticator), Taffy's credential exchange authenticates
    # nobody (the credentials are the body), as its /api/v1/auth/token twin.
    "v1/": "Tatry / taap.it surfaces: DRF views, API keys only, never a session cookie",
    "auth/": "Taffy's credential exchange: DRF view with no authenticator (credentials in the body)",
    # Any other path under Taffy's /auth prefix (and the prefix itself): a 404 in Taffy's
    # shape from surfaces.envelope.UnknownPathView, which authenticates nobody.
    "auth(?:/|$)": "Taffy's unknown paths: a 404 in Taffy's shape, no authenticator",
}


def _all_patterns(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    out: list[tuple[str, URLPattern]] = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out.extend(_all_patterns(p.url_patterns, route))
        else:
            out.append((route, p))
    return out


def _allowed_exempt(route: str) -> bool:
    plain = route.replace("^", "")
    return any(plain.startswith(prefix) for prefix in CSRF_EXEMPT_OK) or "/saml/" in plain


def test_no_ui_view_is_csrf_exempt_or_frameable() -> None:
    exempt = [
        route for route, p in _all_patterns(get_resolver().url_patterns) if getattr(p.callback, "csrf_exempt", False)
    ]
    unexplained = [route for route in exempt if not _allowed_exempt(route)]
    assert not unexplained, f"views exempt from CSRF without a reviewed reason: {unexplained}"
    frameable = [
        route
        for route, p in _all_patterns(get_resolver().url_patterns)
        if getattr(p.callback, "xframe_options_exempt", False)
    ]
    assert not frameable, f"views that may be framed (clickjacking): {frameable}"


def _ui_routes_without_params() -> list[str]:
    routes = []
    for route, p in _all_patterns(get_resolver().url_patterns):
        plain = route.lstrip("^").rstrip("$")
        if (
            plain.startswith(("api/", "static/"))
            or "<" in plain
            or "(" in plain
            or "\\" in plain
            or _allowed_exempt(route)
        ):
            continue
        routes.append("/" + plain)
    return sorted(set(routes))


@pytest.mark.django_db
def test_every_ui_form_rejects_a_post_without_csrf_token() -> None:
    from tests.factories import UserFactory, make_tenant

    user = UserFactory()
    make_tenant(owner=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    accepted = {}
    routes = _ui_routes_without_params()
    assert "/accounts/login/" in routes
    for path in routes:
        response = client.post(path, {"name": "x", "email": "x@example.com"})
        if response.status_code != 403:
            accepted[path] = response.status_code
    assert not accepted, f"UI endpoints accepting a POST without CSRF token: {accepted}"


@pytest.mark.django_db
def test_login_form_needs_the_csrf_token() -> None:
    from tests.factories import UserFactory

    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 403
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (200, 302) and response.status_code != 403


@pytest.mark.django_db
def test_session_api_writes_need_the_csrf_token() -> None:
    from tests.factories import make_tenant

    tenant, owner, (org,) = make_tenant(orgs=1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    body = json.dumps({"name": "via session", "scopes": ["scans:read"]})
    refused = client.post("/api/v1/keys/", body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["error"] == "PERMISSION_DENIED" and "CSRF" in refused.json()["message"]
    token = "k" * 32  # a CSRF secret as the csrftoken cookie carries it; the header must match it
    client.cookies["csrftoken"] = token
    accepted = client.post("/api/v1/keys/", body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content
    # Reads stay possible without a token (safe methods), key calls need none at all.
    assert client.get("/api/v1/keys/").status_code == 200


@pytest.mark.django_db
def test_form_action_is_widened_only_on_sign_in_pages() -> None:
    from django.test import Client

    client = Client()
    login_csp = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "form-action 'self' https:" in login_csp
    page_csp = client.get("/api/docs/")["Content-Security-Policy"]
    assert "form-action 'self';" in page_csp
    assert "'unsafe-inline'" not in login_csp.split("script-src")[1].split(";")[0]


# --- Mail in production: links never reach the logs ----------------------------------------------


def test_check_deploy_refuses_the_console_mail_backend(tmp_path: Path) -> None:
    # The console backend prints whole messages, invitation and password-reset links included,
    # to stdout: in production that is the log, readable by far more people than the mailbox.
    env = production_env(
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
        DATABASE_URL="postgres://tater@db.internal:5432/tater",
        REDIS_URL="redis://cache.internal:6379/0",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    result = manage("check", "--deploy", env=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "tater.E020" in output and "EMAIL_BACKEND" in output, output


def test_console_mail_backend_is_fine_in_development() -> None:
    from django.test import override_settings

    from tater.checks import email_backend_check

    console = "django.core.mail.backends.console.EmailBackend"
    with override_settings(DEBUG=True, EMAIL_BACKEND=console):
        assert email_backend_check(None) == []
    with override_settings(DEBUG=False, EMAIL_BACKEND=console):
        assert [e.id for e in email_backend_check(None)] == ["tater.E020"]
    with override_settings(DEBUG=False, EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        assert email_backend_check(None) == []


MAIL_PROBE = r"""
import logging
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
call_command("migrate", verbosity=0, interactive=False)
logging.getLogger().setLevel(logging.DEBUG)
print("BACKEND " + settings.EMAIL_BACKEND, flush=True)
from orgs import members, services
from tests.factories import make_tenant
tenant, owner, (org,) = make_tenant(name="Mailcorp")
members.member_add_by_email(
    organization=org, email="invitee@example.com", role="viewer", actor=owner,
    accept_url=lambda token: "https://tater.example.com/invitations/" + token + "/",
)
# Templates reference static files; the manifest needs collectstatic, which a probe skips.
with override_settings(STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}):
    response = Client().post("/accounts/password/reset/", {"email": owner.email}, secure=True, HTTP_HOST="tater.example.com")
print("RESET %s" % response.status_code, flush=True)
"""


def test_production_without_email_host_keeps_links_out_of_the_logs(tmp_path: Path) -> None:
    env = production_env(SQLITE_PATH=str(tmp_path / "db.sqlite3"))
    for name in ("EMAIL_HOST", "EMAIL_BACKEND"):
        env.pop(name, None)
    result = subprocess.run(  # noqa: S603 - fixed argv
        [PYTHON, "-c", MAIL_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    output = result.stdout + result.stderr
    assert "RESET 302" in result.stdout, output[-4000:]
    assert "console" not in result.stdout.split("BACKEND ")[1].splitlines()[0], output
    # What the logs may say: who was not mailed and the subject, never the body.
    assert "invitee@example.com" in output and "not sent" in output, output
    assert "/invitations/" not in output, output
    assert "/password/reset/key/" not in output, output
