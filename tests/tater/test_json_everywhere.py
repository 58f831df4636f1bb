"""JSON everywhere (SPEC §3), attacked through the HTTP stack.

Every answer under ``/api/`` and the seed systems' paths (``/v1/``, ``/auth/``; SPEC §5a)
is JSON, whatever fails: CSRF, a missing or extra trailing slash (both forms are served),
unknown paths, methods, bodies too deep (400) or too large (413), dates out of range (400),
wrong media types, too many fields. Never an HTML page, never a 500 for bad input. API
answers are ``Cache-Control: no-store`` (several carry secrets).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path

from tater.api.views import TaterAPIView
from tater.urls import handler400, handler403, handler404, handler500  # noqa: F401 - this URL conf's handlers
from tater.urls import urlpatterns as real_patterns
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory, make_key

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
KEYS = "/api/v1/keys/"


def plain_view(request: HttpRequest) -> HttpResponse:
    """A plain Django view (not DRF, so not csrf_exempt) under API prefixes."""
    return HttpResponse("ok")


RAISED = {
    "too-big": (RequestDataTooBig("x"), 413, "PAYLOAD_TOO_LARGE"),
    "too-many": (TooManyFieldsSent("x"), 400, "VALIDATION_ERROR"),
    "suspicious": (SuspiciousOperation("x"), 400, "VALIDATION_ERROR"),
    "bad-request": (BadRequest("x"), 400, "VALIDATION_ERROR"),
}


def html_429_view(request: HttpRequest) -> HttpResponse:
    """An HTML error page (as allauth's rate limit answers), under a JSON path."""
    return HttpResponse("<h1>Slow down</h1>", status=429, headers={"Retry-After": "7"})


def raising_view(request: HttpRequest, name: str) -> HttpResponse:
    raise RAISED[name][0]


class RaisingApiView(TaterAPIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []

    def get(self, request: Any, name: str) -> Any:
        raise RAISED[name][0]


# A test URL conf: the real one plus plain views under /api/ and a seed prefix, to reach
# Django's own CSRF check and error handlers there (every real API view is DRF).
urlpatterns = [
    path("api/v1/plain", plain_view),
    path("v1/plain", plain_view),
    path("ui-plain/", plain_view),
    path("api/v1/raise/<str:name>", RaisingApiView.as_view()),
    path("v1/raise/<str:name>", raising_view),
    path("ui-raise/<str:name>", raising_view),
    path("v1/html-429", html_429_view),
    path("ui-html-429", html_429_view),
    *real_patterns,
]


def catalog(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a catalog error (SPEC §3) with this status (and code)."""
    assert r.status_code == status, (r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    body = json.loads(r.content)
    assert isinstance(body, dict), body
    assert re.fullmatch(r"[A-Z0-9_]+", body["error"]), body
    assert isinstance(body["message"], str) and body["message"], body
    assert body["request_id"] == r["X-Request-ID"], body
    if code is not None:
        assert body["error"] == code, body
    return body


def json_not_html(r: Any) -> None:
    """Whatever the status, the answer is JSON and not a server error."""
    assert r.status_code < 500, (r.status_code, r.content[:300])
    if r.status_code not in (204, 304) and r.content:
        assert r["Content-Type"].startswith("application/json"), (r["Content-Type"], r.content[:300])
        json.loads(r.content)


def keyed(world: dict[str, Any]) -> dict[str, str]:
    return {"HTTP_X_API_KEY": world["owner_raw"]}


def post_raw(client: Any, url: str, raw: bytes, content_type: str = "application/json", **extra: Any) -> Any:
    return client.generic("POST", url, raw, content_type=content_type, **extra)


# --- Bodies too deep -----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"[" * 100_000, b'{"a":' * 50_000, b"[" * 100_000 + b"]" * 100_000])
def test_deeply_nested_login_body_is_400_not_500(api, raw):
    r = post_raw(api, LOGIN, raw)
    body = catalog(r, 400, "VALIDATION_ERROR")
    assert "body" in body["details"]["fields"]


def test_nesting_beyond_64_levels_is_refused_on_key_creation(api, world):
    deep: Any = "x"
    for _ in range(70):
        deep = [deep]
    r = api.post(KEYS, {"name": "n", "scopes": deep}, format="json", **keyed(world))
    body = catalog(r, 400, "VALIDATION_ERROR")
    assert "deeper than 64" in body["message"]


def test_nesting_within_the_limit_reaches_the_serializer(api, world):
    deep: Any = "x"
    for _ in range(30):
        deep = [deep]
    r = api.post(KEYS, {"name": "n", "scopes": deep}, format="json", **keyed(world))
    body = catalog(r, 400, "VALIDATION_ERROR")
    assert "scopes" in json.dumps(body["details"])


def test_deeply_nested_upload_is_400(api, world):
    r = post_raw(api, "/api/scans/upload", b"[" * 100_000, **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


# --- Bodies too large: 413 on every endpoint -------------------------------------------------


LARGE_TARGETS = [
    ("POST", LOGIN),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/verify-2fa"),
    ("POST", KEYS),
    ("POST", "/api/v1/keys"),
    ("GET", KEYS),
    ("POST", "/api/v1/scans/upload"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/v1/nowhere"),
    ("POST", "/v1/nowhere"),  # shared by Tatry and taap.it: no one system's format
]


@pytest.mark.parametrize(("method", "url"), LARGE_TARGETS)
def test_oversized_body_is_413_everywhere(api, world, method, url):
    raw = json.dumps({"email": "a@example.com", "password": "x" * 3000}).encode()
    with override_settings(TATER_MAX_UPLOAD_BYTES=2000):
        r = api.generic(method, url, raw, content_type="application/json", **keyed(world))
    body = catalog(r, 413, "PAYLOAD_TOO_LARGE")
    assert body["details"] == {"max_bytes": 2000}


def test_oversized_body_on_a_seed_path_is_413_in_that_systems_format(api, world):
    """SPEC §3: on the seed systems' paths, "in that system's error format" (Taffy's
    {"errors", "data"}, Tatry's {"status": "error", "error": {...}})."""
    raw = json.dumps({"email": "a@example.com", "password": "x" * 3000}).encode()
    with override_settings(TATER_MAX_UPLOAD_BYTES=2000):
        taffy = api.generic("POST", "/auth/token", raw, content_type="application/json")
        tatry = api.generic("POST", "/v1/auth/validate", raw, content_type="application/json", **keyed(world))
    assert taffy.status_code == 413 and taffy.json()["data"] is None and taffy.json()["errors"]
    assert tatry.status_code == 413 and tatry.json()["status"] == "error"
    error = tatry.json()["error"]
    assert error["code"] == "payload_too_large" and error["details"]["max_bytes"] == 2000


def test_default_limit_is_5_mb_on_login(api):
    raw = json.dumps({"email": "a@example.com", "password": "x" * (5 * 1024 * 1024)}).encode()
    catalog(post_raw(api, LOGIN, raw), 413, "PAYLOAD_TOO_LARGE")


def test_body_at_the_limit_is_read(api, world):
    raw = json.dumps({"name": "k"}).encode()
    with override_settings(TATER_MAX_UPLOAD_BYTES=len(raw)):
        r = post_raw(api, KEYS, raw, **keyed(world))
    assert r.status_code == 201, r.content


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "\u00b2", " 12 3"])
def test_malformed_content_length_is_400(api, world, length):
    r = post_raw(api, KEYS, b'{"name": "k"}', CONTENT_LENGTH=length, **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


def test_oversized_ui_form_is_not_a_json_answer(client):
    """Outside the API, pages keep Django's own behaviour."""
    with override_settings(TATER_MAX_UPLOAD_BYTES=100):
        r = client.post("/accounts/login/", {"login": "x" * 500, "password": "y"})
    assert not r["Content-Type"].startswith("application/json")


# --- Dates out of range ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/audit-log/?until=9999-12-31T23:59:59.999999-00:00", "until"),
        ("/api/v1/audit-log/?until=9999-12-31", "until"),
        ("/api/v1/audit-log/?since=0000-00-00", "since"),
        ("/api/v1/audit-log/?since=0001-01-01T00:00:00%2B01:00", "since"),
        ("/api/v1/audit-log/?since=0001-01-01", "since"),
        ("/api/v1/audit-log/?since=2026-02-30", "since"),
        ("/api/v1/audit-log/?until=99999-01-01", "until"),
        ("/api/v1/audit-log/?format=csv&until=9999-12-31T23:59:59.999999Z", "until"),
        ("/api/v1/scans/?since=0000-00-00", "since"),
        ("/api/v1/scans/?since=0000-01-01T00:00:00Z", "since"),
        ("/api/v1/scans/?since=0001-01-01T00:00:00%2B01:00", "since"),
        ("/api/v1/scans/?until=9999-12-31T23:59:59.999999-00:00", "until"),
        ("/api/v1/scans/?until=9999-12-31", "until"),
        ("/api/v1/scans/?until=2026-13-01", "until"),
    ],
)
def test_out_of_range_date_params_are_400_naming_the_field(api, world, url, field):
    r = api.get(url, **keyed(world))
    body = catalog(r, 400, "VALIDATION_ERROR")
    assert field in body["details"]["fields"], body
    assert body["message"].startswith(field), body


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/v1/audit-log/?since=1900-01-01&until=9000-12-31", 200),
        ("/api/v1/audit-log/?until=9000-12-31T23:59:59.999999Z", 200),
        ("/api/v1/scans/?since=1900-01-01T00:00:00Z&until=9000-12-31", 200),
    ],
)
def test_dates_at_the_range_ends_are_accepted(api, world, url, expected):
    assert api.get(url, **keyed(world)).status_code == expected


SCAN = {"scanner": "nmap", "target": "10.0.0.1", "started_at": "2026-01-15T09:30:00Z"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", "9999-12-31T23:59:59Z"),
        ("started_at", "9999-12-31T23:59:59.999999-00:00"),
        ("started_at", "0001-01-01T00:00:00+01:00"),
        ("started_at", "0000-01-01T00:00:00Z"),
        ("finished_at", "9999-12-31T23:59:59Z"),
        ("finished_at", "0001-01-01T00:00:00Z"),
    ],
)
def test_out_of_range_dates_in_an_upload_are_400(api, world, field, value):
    r = api.post("/api/v1/scans/upload", {**SCAN, field: value}, format="json", **keyed(world))
    body = catalog(r, 400, "VALIDATION_ERROR")
    assert field in body["details"]["fields"], body


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z"])
def test_out_of_range_key_expiry_is_400(api, world, value):
    r = api.post(KEYS, {"name": "k", "expires_at": value}, format="json", **keyed(world))
    body = catalog(r, 400, "VALIDATION_ERROR")
    assert "expires_at" in body["details"]["fields"]
    if not value.startswith("0000"):  # year 0 does not exist: a format error, not a range one
        assert "year" in body["details"]["fields"]["expires_at"][0]


@pytest.mark.parametrize(
    "value", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"]
)
def test_out_of_range_key_expiry_is_never_a_500(api, world, value):
    r = api.post(KEYS, {"name": "k", "expires_at": value}, format="json", **keyed(world))
    assert r.status_code < 500, r.content
    assert r["Content-Type"].startswith("application/json")


# --- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def browser(world) -> Client:
    """A signed-in browser without the CSRF token (CSRF checks on)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["owner"])
    return client


@pytest.mark.parametrize("url", [KEYS, "/api/v1/keys"])
def test_session_post_without_csrf_token_is_json_403(browser, url):
    r = browser.post(url, {"name": "k"}, content_type="application/json")
    body = catalog(r, 403, "PERMISSION_DENIED")
    assert "CSRF" in body["message"]


@pytest.mark.urls("tests.tater.test_json_everywhere")
@pytest.mark.parametrize("url", ["/api/v1/plain", "/v1/plain"])
def test_django_csrf_failure_under_api_paths_is_json(browser, url):
    r = browser.post(url, {"a": "b"})
    body = catalog(r, 403, "PERMISSION_DENIED")
    assert "CSRF" in body["message"]


@pytest.mark.urls("tests.tater.test_json_everywhere")
def test_django_csrf_failure_on_pages_stays_html(browser):
    r = browser.post("/ui-plain/", {"a": "b"})
    assert r.status_code == 403
    assert r["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "url", ["/api/auth/login", "/auth/token", "/api/v1/keys", "/v1/auth/validate", "/api/v1/nowhere"]
)
def test_cookieless_script_posts_never_get_the_html_csrf_page(url):
    r = Client(enforce_csrf_checks=True).post(url, {"email": "a@example.com"}, content_type="application/json")
    json_not_html(r)
    assert r.status_code != 403 or "CSRF" not in r.content.decode()


def test_login_with_csrf_checks_on_works_for_scripts(world):
    r = Client(enforce_csrf_checks=True).post(
        LOGIN, {"email": world["owner"].email, "password": PASSWORD}, content_type="application/json"
    )
    assert r.status_code == 200, r.content


# --- Unknown paths, methods ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/api/anything", "/api/v1/anything/", "/v1/anything", "/v1/", "/auth/anything", "/auth/", "/api/v1/keys/x/y/z/"],
)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_unknown_paths_are_json_404(url, method):
    r = Client(enforce_csrf_checks=True).generic(method, url, b"{}", content_type="application/json")
    not_found(r, url)


@pytest.mark.parametrize("url", ["/api/anything", "/v1/anything", "/auth/anything"])
@override_settings(DEBUG=True)
def test_unknown_paths_are_json_even_with_debug_on(url):
    not_found(Client().get(url), url)


def not_found(r: Any, url: str) -> None:
    """The catalog's 404; under Taffy's /auth/ in Taffy's shape (SPEC §3: "in that system's
    error format"; tests/surfaces/test_review_s38_unknown_paths.py)."""
    if url.startswith("/auth/"):
        json_not_html(r)
        assert r.status_code == 404 and json.loads(r.content) == {"errors": ["Not found"], "data": None}
    else:
        catalog(r, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "url"), [("DELETE", KEYS), ("PUT", LOGIN), ("GET", LOGIN), ("DELETE", "/api/v1/keys"), ("FOO", KEYS)]
)
def test_wrong_method_is_json_405(api, world, method, url):
    r = api.generic(method, url, **keyed(world))
    catalog(r, 405, "METHOD_NOT_ALLOWED")


def test_head_and_options(api, world):
    head = api.head(KEYS, **keyed(world))
    assert head.status_code == 200 and head.content == b""
    head = api.head("/api/v1/keys", **keyed(world))
    assert head.status_code == 200 and head.content == b""
    options = api.options(KEYS, **keyed(world))
    assert options.status_code == 200 and options["Content-Type"].startswith("application/json")
    json_not_html(api.options("/api/v1/keys", **keyed(world)))
    json_not_html(api.options(LOGIN))
    nowhere = api.head("/api/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere["Content-Type"].startswith("application/json")


# --- Both trailing-slash forms -------------------------------------------------------------------


def _api_routes() -> list[tuple[str, Any]]:
    """Every concrete route under /api/ (from the URL conf, so a new one is covered)."""

    def walk(patterns: list[Any], prefix: str) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                out.extend(walk(p.url_patterns, route))
            elif isinstance(p, URLPattern) and route.startswith("api/") and "^" not in route and "(" not in route:
                out.append((route, p.callback))
        return out

    return walk(get_resolver().url_patterns, "")


API_ROUTES = _api_routes()
# The other form of this route is another route (scan detail with id "upload"): the URL
# conf must route it to the upload (scans/api/urls.py, lead).
_OTHER_FORM_IS_ANOTHER_ROUTE: set[str] = set()


def _url(route: str, ids: dict[str, str]) -> str:
    # Ids in their own shape where a converter insists on it (scan ids), else a placeholder.
    shaped = {"scan_id": "scan-00000000-0000-0000-0000-000000000000"}
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ids.get(m.group(1), shaped.get(m.group(1), "x")), route)


def test_route_walk_finds_the_api():
    routes = {route for route, _ in API_ROUTES}
    assert {"api/v1/keys/", "api/v1/auth/login", "api/v1/audit-log/", "api/scans/upload"} <= routes


def test_v1_routes_are_mounted_as_written():
    """/api/v1/'s routes sit at the root of the URL conf (one resolver level) but route,
    name and reverse exactly as their relative patterns say, and nothing else is there."""
    from django.urls import include, resolve, reverse

    from tater.api import urls as v1

    v1_routes = {route for route, _ in API_ROUTES if route.startswith("api/v1/")}
    assert v1_routes == {"api/v1/" + str(p.pattern) for p in v1.urlpatterns}
    validate = resolve("/api/v1/auth/validate")
    assert validate.route == "api/v1/auth/validate" and validate.url_name == "api-auth-validate"
    assert reverse("api-key-detail", args=["key-1"]) == "/api/v1/keys/key-1/"
    assert resolve("/api/v1/keys/key-1/rotate/").kwargs == {"key_id": "key-1"}
    with pytest.raises(TypeError):  # an include would need a case of its own
        original = v1.urlpatterns
        try:
            v1.urlpatterns = [path("nested/", include("scim.api.urls"))]
            v1.under("api/v1/")
        finally:
            v1.urlpatterns = original


def _view_of(callback: Any) -> Any:
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback


@pytest.mark.parametrize(
    ("route", "callback"),
    [
        pytest.param(route, callback, id=route, marks=pytest.mark.xfail(strict=True, reason="route clash (lead)"))
        if route in _OTHER_FORM_IS_ANOTHER_ROUTE
        else pytest.param(route, callback, id=route)
        for route, callback in API_ROUTES
    ],
)
def test_both_slash_forms_reach_the_same_view(api, world, route, callback):
    ids = {
        "key_id": world["owner_key"].public_id,
        "org_id": world["org1"].public_id,
        "user_id": world["member"].public_id,
    }
    url = _url(route, ids)
    other = url[:-1] if url.endswith("/") else url + "/"
    for candidate in (url, other):
        r = api.get(candidate, **keyed(world))
        assert r.status_code not in (301, 302, 308), (candidate, r.status_code)
        assert _view_of(r.wsgi_request.resolver_match.func) is _view_of(callback), candidate
        if r.status_code >= 400:
            catalog(r, r.status_code)


def test_post_without_slash_creates_a_key(api, world):
    r = api.post("/api/v1/keys", {"name": "no slash"}, format="json", **keyed(world))
    assert r.status_code == 201, r.content
    assert r.json()["key"].startswith("tater_")


def test_post_with_extra_slash_signs_in(api, world):
    r = api.post(LOGIN + "/", {"email": world["owner"].email, "password": PASSWORD}, format="json")
    assert r.status_code == 200, r.content


def test_action_without_slash(api, world):
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="to revoke")
    r = api.post(f"/api/v1/keys/{key.public_id}/revoke", **keyed(world))
    assert r.status_code == 200, r.content
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_upload_with_extra_slash(api, world):
    r = api.post("/api/v1/scans/upload/", SCAN, format="json", **keyed(world))
    assert r.status_code == 201, r.content


def test_query_string_survives_the_slash_fallback(api, world):
    r = api.get("/api/v1/keys?limit=1", **keyed(world))
    assert r.status_code == 200 and r.json()["limit"] == 1


# --- Bodies that are not what is expected ----------------------------------------------------------


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"1", b"true", b"[{}]"])
@pytest.mark.parametrize(
    "url", [KEYS, "/api/v1/keys", LOGIN, "/api/v1/auth/token", "/api/v1/auth/verify-2fa", "/api/v1/scans/upload"]
)
def test_json_that_is_not_an_object_is_400(api, world, raw, url):
    r = post_raw(api, url, raw, **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"1"])
def test_patch_with_non_object_json_is_400(api, world, raw):
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="patched")
    r = api.generic("PATCH", f"/api/v1/keys/{key.public_id}/", raw, content_type="application/json", **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("raw", [b'{"name": "\xff\xfe"}', b'{"name": "\xc3"}', b'\xef\xbb\xbf{"name": 1}'])
@pytest.mark.parametrize("url", [KEYS, LOGIN])
def test_invalid_utf8_body_is_400(api, world, raw, url):
    r = post_raw(api, url, raw, **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
@pytest.mark.parametrize("url", [KEYS, LOGIN, "/api/v1/auth/token", "/api/v1/scans/upload"])
def test_wrong_content_type_is_415(api, world, url, content_type):
    r = post_raw(api, url, b'{"name": "k"}', content_type=content_type, **keyed(world))
    catalog(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unknown_charset_is_not_a_500(api, world):
    r = post_raw(api, KEYS, b'{"name": "k"}', content_type="application/json; charset=bogus-42", **keyed(world))
    assert r.status_code in (201, 400, 415), r.content
    assert r["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("raw", [b'{"name": "a\\u0000b"}', b'{"name": "k", "scopes": ["\\u0000"]}'])
def test_nul_characters_in_json_strings_are_400(api, world, raw):
    catalog(post_raw(api, KEYS, raw, **keyed(world)), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\\ud800"}',
        b'{"name": "a\\udfffb"}',
        b'{"\\ud83d": "k"}',
        b'{"name": "\\ud83d\\\\\\ude00"}',  # high, escaped backslash, low: not a pair
        b'{"name": "k", "scopes": ["\\\\\\u0000"]}',  # escaped backslash, then a real NUL
    ],
)
def test_lone_surrogates_in_json_strings_are_400(api, world, raw):
    catalog(post_raw(api, KEYS, raw, **keyed(world)), 400, "VALIDATION_ERROR")


def test_surrogate_pairs_are_text(api, world):
    r = post_raw(api, KEYS, b'{"name": "k \\ud83d\\ude00"}', **keyed(world))
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "k \U0001f600"


UPLOAD_BODY = b'{"scanner": "n", "target": "t", "started_at": "2026-01-15T09:30:00Z", "metadata": %s}'


@pytest.mark.parametrize("metadata", [b'{"a": "x\\u0000y"}', b'{"a\\u0000": "y"}', b'{"a": "\\ud800"}'])
def test_nul_and_surrogates_in_free_form_upload_fields_are_400(api, world, metadata):
    # DRF's CharField refuses them; free-form JSON (metadata, finding data) reached the
    # database: PostgreSQL refuses NUL in jsonb, UTF-8 encoding refuses surrogates (500).
    catalog(post_raw(api, "/api/v1/scans/upload", UPLOAD_BODY % metadata, **keyed(world)), 400, "VALIDATION_ERROR")


def test_escaped_backslash_before_u0000_text_is_not_a_nul(api, world):
    r = post_raw(api, KEYS, b'{"name": "a\\\\u0000b"}', **keyed(world))
    assert r.status_code == 201, r.content


@pytest.mark.parametrize(
    "url", ["/api/v1/keys/%00/", "/api/v1/keys/?status=%00", "/api/v1/audit-log/?actor=a%00@example.com"]
)
def test_nul_in_path_or_query_is_400(api, world, url):
    catalog(api.get(url, **keyed(world)), 400, "VALIDATION_ERROR")


# --- Too many fields, huge query strings ---------------------------------------------------------


@pytest.mark.parametrize("url", [KEYS, "/api/v1/keys", "/api/v1/scans/", "/api/v1/audit-log/", "/api/v1/auth/validate"])
def test_too_many_query_fields_is_json_400(api, world, url):
    query = "&".join(f"f{i}=1" for i in range(1500))
    r = api.get(f"{url}?{query}", **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


def test_too_many_query_fields_on_an_unauthenticated_endpoint(api):
    query = "&".join(f"f{i}=1" for i in range(1500))
    r = api.post(f"{LOGIN}?{query}", {"email": "a@example.com", "password": "x"}, format="json")
    catalog(r, 400, "VALIDATION_ERROR")


def test_too_many_form_fields_with_a_session(world):
    client = Client()
    client.force_login(world["owner"])
    r = client.post(KEYS, "&".join(f"f{i}=1" for i in range(1500)), content_type="application/x-www-form-urlencoded")
    assert r.status_code in (400, 403, 415), r.content
    catalog(r, r.status_code)


def test_huge_query_value_is_not_a_500(api, world):
    r = api.get(f"/api/v1/scans/?scanner={'x' * 200_000}", **keyed(world))
    catalog(r, 400, "VALIDATION_ERROR")


# --- Cache-Control: no-store -------------------------------------------------------------------


def assert_no_store(r: Any) -> None:
    assert "no-store" in r["Cache-Control"], r.headers
    assert r["Pragma"] == "no-cache", r.headers


def test_key_creation_and_rotation_are_no_store(api, world):
    created = api.post(KEYS, {"name": "secret"}, format="json", **keyed(world))
    assert created.status_code == 201 and "key" in created.json()
    assert_no_store(created)
    key_id = created.json()["id"]
    rotated = api.post(f"/api/v1/keys/{key_id}/rotate/", {}, format="json", **keyed(world))
    assert rotated.status_code in (200, 201), rotated.content
    assert_no_store(rotated)


def test_credential_exchange_is_no_store(api, world):
    body = {"email": world["owner"].email, "password": PASSWORD, "organizationId": world["org1"].public_id}
    r = api.post("/api/v1/auth/token", body, format="json")
    assert r.status_code in (200, 201), r.content
    assert_no_store(r)


def test_2fa_login_token_is_no_store(api):
    user = UserFactory()
    enrol(user)
    r = api.post(LOGIN, {"email": user.email, "password": PASSWORD}, format="json")
    assert r.json()["requires2FA"] is True
    assert_no_store(r)


@pytest.mark.parametrize("url", [KEYS, "/api/v1/me", "/api/v1/auth/validate", "/api/v1/nowhere", "/v1/anything"])
def test_every_api_answer_is_no_store(api, world, url):
    assert_no_store(api.get(url, **keyed(world)))


def test_pages_keep_their_own_caching(client):
    r = client.get("/accounts/login/")
    assert r.get("Pragma") != "no-cache"


# --- Django's refusals of a request, raised in views ---------------------------------------------


@pytest.mark.urls("tests.tater.test_json_everywhere")
@pytest.mark.parametrize("name", sorted(RAISED))
@pytest.mark.parametrize("prefix", ["/api/v1/raise/", "/v1/raise/"])
def test_django_request_refusals_are_catalog_errors(prefix, name):
    _, status, code = RAISED[name]
    catalog(Client().get(prefix + name), status, code)


@pytest.mark.urls("tests.tater.test_json_everywhere")
def test_django_request_refusals_on_pages_stay_html():
    r = Client().get("/ui-raise/too-many")
    assert r.status_code == 400 and not r["Content-Type"].startswith("application/json")


# --- Errors raised outside the API views -----------------------------------------------------------


def test_api_answers_are_never_html_even_with_debug_on(api, world):
    with override_settings(DEBUG=True):
        r = api.get("/api/v1/nowhere", **keyed(world))
        catalog(r, 404, "NOT_FOUND")
        query = "&".join(f"f{i}=1" for i in range(1500))
        catalog(api.get(f"{KEYS}?{query}", **keyed(world)), 400, "VALIDATION_ERROR")


def test_post_without_slash_with_debug_on(api, world):
    # Django's APPEND_SLASH would raise RuntimeError for a POST in DEBUG; never reached.
    with override_settings(DEBUG=True):
        r = api.post("/api/v1/keys", {"name": "debug"}, format="json", **keyed(world))
    assert r.status_code == 201, r.content


@pytest.mark.urls("tests.tater.test_json_everywhere")
def test_html_error_pages_under_json_paths_become_catalog_errors():
    r = Client().get("/v1/html-429")
    catalog(r, 429, "RATE_LIMITED")
    assert r["Retry-After"] == "7"
    page = Client().get("/ui-html-429")
    assert page.status_code == 429 and page.content == b"<h1>Slow down</h1>"


@pytest.mark.parametrize("url", ["/api/v1/keys/", "/api/v1/keys", "/api/auth/login", "/auth/token"])
def test_unauthenticated_gets_are_json(url):
    json_not_html(Client().get(url))
