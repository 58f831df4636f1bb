"""Found by an attacker review of HTTP protocol edges on the API and the seed systems' paths
(SPEC §3 "JSON everywhere", §4, §5, §5a, §6), expectations from the SPEC:

- ``OPTIONS /api/docs/`` was a 500: DRF answered it with the view's metadata, rendered
  through the Swagger page's HTML template, which has nothing to render it with. §3: every
  answer under ``/api/`` is JSON, "never a 500 for bad input";
- ``?format=`` anything but ``json`` on an API view that does not read the parameter itself
  (``GET /api/v1/keys/?format=csv``) was a 404 ``NOT_FOUND``: DRF's renderer switch finds no
  renderer claiming that format. §3: "not found" is for what does not exist; the key list
  does. The parameter is one like the others there (the audit log's export reads it);
- a body sent without a Content-Length (``Transfer-Encoding: chunked``: Go's and Node's
  clients with a streamed body, ``curl -T -``; gunicorn passes it on) was taken for no body
  at all everywhere but the scans upload: ``POST keys/{id}/rotate/`` with
  ``{"grace_period_seconds": 0}`` answered 200 and left the old (leaked?) secret valid for the
  default 24 h, ``PATCH keys/{id}/`` with narrower scopes answered 200 and narrowed nothing, and
  a 7 MB body was no 413. §2a: body fields are "never ignored"; §3: 413 "on every endpoint".
  Such a body is now refused with 411 ``LENGTH_REQUIRED`` (HTTP's answer for it), in the
  seed system's shape on its path; the scans upload still reads it, bounded;
- ``DELETE organizations/{id}/members/{user}/`` and ``POST scim-tokens/{id}/revoke/`` took any
  body and ignored it (204/200), where revoke, deactivate and activate of a key refuse one
  naming its fields. §2a: "Unknown ... fields in a body are a 400 VALIDATION_ERROR, never
  ignored" (an integrator's ``{"reason": ...}`` or ``{"keep_keys": true}`` must not seem
  honoured);
- a JSON body declared in a text codec that fails with a bare ``UnicodeError`` rather than a
  ``UnicodeDecodeError`` (``charset=punycode``) was a 500 on every JSON endpoint (key
  creation, sign-in, Taffy's token, SCIM...). §3: "never a 500 for bad input".
  Beyond the JSON parser, Django decodes the query string and form bodies in the charset the
  Content-Type declares, even on a GET: ``charset=punycode`` (or ``idna``, ``undefined``) made
  any request with a query a 500, and ``charset=unicode_escape`` turned ``%5Cx00`` into a NUL
  the path-and-query check never saw (it reached the org hint, echoed back in the 403).
  Codecs that are no character sets (those, and UTF-7, whose ``+ACI-`` hides a quote from
  anything reading the bytes) are refused with 415 ``UNSUPPORTED_MEDIA_TYPE`` before anything decodes. Django
  decodes the query while it builds the request, before any middleware: there the codecs
  that raise escaped the application (the server's own 500 page, on any path, for anyone
  sending one header); the deployed WSGI application now takes such a charset off first.
"""

from __future__ import annotations

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings

from tests.factories import add_member, make_key
from tests.orgs.api_world import SCAN_BODY
from tests.scim.conftest import make_directory

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"


def keyed(world: dict[str, Any]) -> dict[str, str]:
    return {"HTTP_X_API_KEY": world["owner_raw"]}


def json_answer(r: Any) -> Any:
    """The answer is JSON and not a server error."""
    assert r.status_code < 500, (r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json"), (r["Content-Type"], r.content[:300])
    return json.loads(r.content) if r.content else None


# --- 1. OPTIONS on the interactive docs ------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/docs/", "/api/docs"])
@pytest.mark.parametrize("with_key", [False, True])
def test_options_on_the_api_docs_is_never_a_500(world, url, with_key):
    client = Client(raise_request_exception=False)
    r = client.options(url, **(keyed(world) if with_key else {}))
    json_answer(r)
    assert r.status_code in (200, 204, 405)


def test_the_api_docs_page_is_still_served(world):
    r = Client().get("/api/docs/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert Client().head("/api/docs/").status_code == 200


# --- 2. ?format= is no renderer switch ------------------------------------------------------


@pytest.mark.parametrize("value", ["csv", "api", "xml", "yaml", "txt"])
@pytest.mark.parametrize(
    "url",
    [
        KEYS,
        "/api/v1/auth/validate",
        "/api/v1/organizations/",
        "/api/v1/scans/",
        "/api/v1/me",
    ],
)
def test_a_format_parameter_never_makes_an_existing_endpoint_a_404(api, world, url, value):
    r = api.get(f"{url}?format={value}", **keyed(world))
    body = json_answer(r)
    assert r.status_code != 404, body
    assert r.status_code == 200, body


def test_a_format_parameter_on_a_seed_path_is_no_404(api, world):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {world['owner_raw']}"}
    tatry = api.get("/v1/auth/validate?format=csv", **bearer)
    assert tatry.status_code == 200 and json_answer(tatry)["status"] == "success"
    taapit = api.get("/v1/workspaces?format=csv", **bearer)
    assert taapit.status_code == 200 and isinstance(json_answer(taapit), list)


def test_the_audit_export_still_reads_its_format(api, world):
    r = api.get("/api/v1/audit-log/?format=csv", **keyed(world))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    refused = api.get("/api/v1/audit-log/?format=xml", **keyed(world))
    assert refused.status_code == 400 and json_answer(refused)["error"] == "VALIDATION_ERROR"


def test_the_schema_keeps_its_format_switch(api):
    r = api.get("/api/schema/?format=json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.oai.openapi+json")


# --- 3. A body without a Content-Length -----------------------------------------------------

# What gunicorn hands the app for a chunked request body: no CONTENT_LENGTH, the input read
# to its end.
CHUNKED = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}


def send_chunked(api: Any, method: str, url: str, body: Any, **extra: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    # A stream read to its end as a server's is (the test client's refuses reads past its length).
    stream = {"wsgi.input": io.BytesIO(raw)}
    return api.generic(method, url, raw, content_type="application/json", **CHUNKED, **stream, **extra)


def test_a_chunked_rotation_never_keeps_the_old_secret_by_ignoring_its_grace(api, world):
    key, old_secret = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="leaked")
    r = send_chunked(api, "POST", f"/api/v1/keys/{key.public_id}/rotate/", {"grace_period_seconds": 0}, **keyed(world))
    if r.status_code == 200:
        # Rotated: then as asked, the old secret ended at once.
        assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=old_secret).status_code == 401
    else:
        assert (r.status_code, json_answer(r)["error"]) == (411, "LENGTH_REQUIRED")
        assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=old_secret).status_code == 200  # not rotated


def test_a_chunked_narrowing_is_never_a_200_that_narrowed_nothing(api, world):
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="wide")
    r = send_chunked(api, "PATCH", f"/api/v1/keys/{key.public_id}/", {"scopes": ["scans:read"]}, **keyed(world))
    key.refresh_from_db()
    if r.status_code == 200:
        assert json_answer(r)["scopes"] == ["scans:read"]
    else:
        assert (r.status_code, json_answer(r)["error"]) == (411, "LENGTH_REQUIRED")


def test_a_chunked_body_with_an_unknown_field_is_never_read_as_empty(api, world):
    r = send_chunked(api, "POST", KEYS, {"name": "k", "unbound": True}, **keyed(world))
    body = json_answer(r)
    assert r.status_code in (400, 411), body
    assert body["error"] in ("VALIDATION_ERROR", "LENGTH_REQUIRED"), body
    if r.status_code == 400:
        assert "unbound" in body["details"]["fields"], body


def test_a_chunked_body_over_the_limit_is_refused(api, world):
    with override_settings(TATER_MAX_UPLOAD_BYTES=1000):
        r = send_chunked(api, "POST", KEYS, {"name": "k", "metadata": {"pad": "x" * 5000}}, **keyed(world))
    assert r.status_code in (411, 413), json_answer(r)


@pytest.mark.parametrize(
    "url, body",
    [
        ("/auth/token", {"username": "a@example.com", "password": "x"}),
        ("/api/v1/auth/login", {"email": "a@example.com", "password": "x"}),
        ("/api/auth/login", {"email": "a@example.com", "password": "x"}),
    ],
)
def test_chunked_bodies_on_credential_endpoints_are_answered_in_their_format(api, url, body):
    r = send_chunked(api, "POST", url, body)
    answer = json_answer(r)
    assert r.status_code == 411, answer
    if url == "/auth/token":
        assert answer["data"] is None and answer["errors"], answer  # Taffy's shape
    else:
        assert answer["error"] == "LENGTH_REQUIRED", answer


def test_a_chunked_seed_validate_is_in_tatrys_shape(api, world):
    r = send_chunked(api, "POST", "/v1/auth/validate", {}, HTTP_AUTHORIZATION=f"Bearer {world['owner_raw']}")
    answer = json_answer(r)
    assert r.status_code == 411 and answer["status"] == "error", answer


@pytest.mark.parametrize("url", ["/api/v1/scans/upload", "/api/scans/upload"])
def test_the_scans_upload_still_reads_a_chunked_body(api, world, url):
    r = send_chunked(api, "POST", url, SCAN_BODY, **keyed(world))
    assert r.status_code == 201, json_answer(r)


def test_a_body_with_its_length_is_unchanged(api, world):
    key, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="sized")
    r = api.patch(f"/api/v1/keys/{key.public_id}/", {"scopes": ["scans:read"]}, format="json", **keyed(world))
    assert r.status_code == 200 and r.json()["scopes"] == ["scans:read"]


# --- 4. Bodies of the removing endpoints ----------------------------------------------------


def member_url(world: dict[str, Any], user: Any) -> str:
    return f"/api/v1/organizations/{world['org1'].public_id}/members/{user.public_id}/"


@pytest.mark.parametrize("body", [{"keep_keys": True}, {"reason": "left the company"}])
def test_removing_a_member_refuses_a_body_it_would_ignore(api, world, body):
    member = add_member(world["org1"], "member")
    r = api.generic(
        "DELETE", member_url(world, member), json.dumps(body), content_type="application/json", **keyed(world)
    )
    answer = json_answer(r)
    assert r.status_code == 400 and answer["error"] == "VALIDATION_ERROR", answer
    assert set(answer["details"]["fields"]) == set(body)
    assert api.get(member_url(world, member), **keyed(world)).status_code == 200  # still a member


def test_removing_a_member_without_a_body_still_works(api, world):
    member = add_member(world["org1"], "member")
    assert api.delete(member_url(world, member), **keyed(world)).status_code == 204
    empty = add_member(world["org1"], "member")
    r = api.generic("DELETE", member_url(world, empty), "{}", content_type="application/json", **keyed(world))
    assert r.status_code == 204


def test_revoking_a_scim_token_refuses_a_body_it_would_ignore(world):
    from rest_framework.test import APIClient

    owner = APIClient()
    owner.force_login(world["owner"])
    created = owner.post("/api/v1/scim-tokens/", {"name": "Okta"}, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/scim-tokens/{created.json()['id']}/revoke/"
    r = owner.post(url, {"reason": "leaked"}, format="json")
    answer = json_answer(r)
    assert r.status_code == 400 and answer["details"]["fields"] == {"reason": ["This field is not accepted here."]}
    assert owner.post(url).status_code == 200


# --- 5. The charset a JSON body declares ----------------------------------------------------


@pytest.mark.parametrize(
    "url, shape",
    [
        (KEYS, "catalog"),
        ("/api/v1/auth/login", "catalog"),
        ("/api/auth/login", "catalog"),
        ("/api/v1/auth/token", "catalog"),
        ("/auth/token", "taffy"),
        ("/v1/auth/validate", "tatry"),
    ],
)
def test_a_body_in_a_codec_that_cannot_read_it_is_never_a_500(world, url, shape):
    client = Client(raise_request_exception=False)
    extra = {"HTTP_AUTHORIZATION": f"Bearer {world['owner_raw']}"} if shape == "tatry" else keyed(world)
    r = client.generic("POST", url, b'{"name": "x"}', content_type="application/json; charset=punycode", **extra)
    answer = json_answer(r)
    assert r.status_code in (400, 415), answer
    if shape == "catalog":
        assert answer["error"] in ("VALIDATION_ERROR", "UNSUPPORTED_MEDIA_TYPE"), answer
    elif shape == "taffy":
        assert answer["data"] is None and answer["errors"], answer
    else:
        assert answer["status"] == "error", answer


def test_a_scim_body_in_a_codec_that_cannot_read_it_is_400(db):
    directory = make_directory("Initech", "initech.test")
    r = Client(raise_request_exception=False).generic(
        "POST",
        "/scim/v2/Users",
        json.dumps({"userName": "ada@initech.test"}),
        content_type="application/scim+json; charset=punycode",
        HTTP_AUTHORIZATION=f"Bearer {directory.secret}",
    )
    assert r.status_code == 400, r.content


NOT_CHARSETS = ["punycode", "idna", "undefined", "unicode_escape", "raw_unicode_escape", "utf-7"]


# Those Django's request decodes the query with without raising (punycode, idna and undefined
# raise in the request's constructor, before any middleware: below, through the WSGI app).
@pytest.mark.parametrize("charset", ["unicode_escape", "raw_unicode_escape", "utf-7"])
@pytest.mark.parametrize(
    "url, extra",
    [
        ("/api/v1/keys/?status=%7B%7D%FF=", "key"),
        ("/v1/auth/keys?status=%7B%7D%FF=", "bearer"),
        ("/v1/workspaces?x=%7B%7D%FF=", "bearer"),
        ("/api/v1/auth/validate?x=%7B", "key"),
    ],
)
def test_a_query_read_in_a_codec_that_is_no_charset_is_refused(world, charset, url, extra):
    client = Client(raise_request_exception=False)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world['owner_raw']}"} if extra == "bearer" else keyed(world)
    r = client.get(url, CONTENT_TYPE=f"text/plain; charset={charset}", **headers)
    json_answer(r)
    assert r.status_code == 415, r.content


@pytest.mark.parametrize("charset", NOT_CHARSETS)
@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"username=a%7B@example.com&password=x%FF", "application/x-www-form-urlencoded"),
        (
            b'--b\r\nContent-Disposition: form-data; name="username"\r\n\r\n{a}\xff\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
        ),
        (b'{"username": "a@example.com", "password": "+ACI-"}', "application/json"),
    ],
)
def test_a_taffy_body_in_a_codec_that_is_no_charset_is_refused_in_taffys_shape(charset, body, content_type):
    r = Client(raise_request_exception=False).generic(
        "POST", "/auth/token", body, content_type=f"{content_type}; charset={charset}"
    )
    answer = json_answer(r)
    assert r.status_code == 415 and answer["data"] is None and answer["errors"], answer


def test_an_escape_codec_never_smuggles_a_nul_into_an_org_hint(api, world):
    unbound, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
    r = Client(raise_request_exception=False).get(
        f"{KEYS}?organizationId={world['org1'].public_id}%5Cx00",
        CONTENT_TYPE="text/plain; charset=unicode_escape",
        HTTP_X_API_KEY=raw,
    )
    answer = json_answer(r)
    assert r.status_code in (400, 415), answer


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf-16", "iso-8859-1", "latin1", "ascii", "bogus"])
def test_real_charsets_still_work(api, world, charset):
    r = api.get(f"{KEYS}?status=active", CONTENT_TYPE=f"text/plain; charset={charset}", **keyed(world))
    assert r.status_code == 200, r.content
    body = '{"name": "cs"}'.encode("utf-16" if charset == "utf-16" else "utf-8")
    r = api.generic("POST", KEYS, body, content_type=f"application/json; charset={charset}", **keyed(world))
    assert r.status_code == 201, r.content


def call_wsgi(path: str, query: str, content_type: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """A request as gunicorn hands it to the deployed application (``tater.wsgi``), which
    the test client does not go through."""
    from tater.wsgi import application

    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "HTTP_HOST": "testserver",
        "SERVER_NAME": "testserver",
        "wsgi.input": io.BytesIO(b""),
        **headers,
    }
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = int(status.split()[0]), dict(response_headers)

    # As the test client does: the test's database connection stays open across the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        body = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return seen["status"], seen["headers"], body


@pytest.mark.parametrize("charset", ["punycode", "idna", "undefined", "PunyCode", '"undefined"'])
def test_a_codec_that_raises_on_the_query_never_escapes_the_application(world, charset):
    status, headers, body = call_wsgi(
        "/api/v1/keys/", "status=%7B%FF=", f"text/plain; charset={charset}", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert status == 415 and headers["Content-Type"].startswith("application/json"), body
    assert json.loads(body)["error"] == "UNSUPPORTED_MEDIA_TYPE"


def test_on_a_seed_path_in_its_shape(world):
    status, _, body = call_wsgi(
        "/v1/auth/keys",
        "limit=%7B%FF=",
        "text/plain; charset=punycode",
        HTTP_AUTHORIZATION=f"Bearer {world['owner_raw']}",
    )
    assert status == 415 and json.loads(body)["status"] == "error", body


def test_on_a_page_the_query_reads_as_utf8(db):
    status, _, body = call_wsgi("/accounts/login/", "next=%7B%FF=", "text/plain; charset=punycode")
    assert status == 200, body[:300]


def test_real_charsets_pass_the_application_untouched(world):
    status, _, body = call_wsgi(
        "/api/v1/keys/", "status=active", "text/plain; charset=utf-8", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert status == 200, body
