from __future__ import annotations

import codecs
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, resolve
from django.utils.http import parse_header_parameters

from tater import client_ip, context, lockout
from tater.api.errors import (
    ApiError,
    ValidationFailed,
    answers_json,
    api_error_response,
    max_body_bytes,
    payload_too_large,
    status_error,
)
from tater.operations.logs import redact

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # fullmatch: "$" would let a final "\n" through

# Python codecs a Content-Type may name that are no character sets: Django decodes the query
# and form bodies in the declared charset (JSON bodies too, through DRF), and these raise
# (punycode, idna, undefined: a 500), turn escapes into characters (unicode_escape:
# ``%5Cx00`` is a NUL past the check below) or hide quotes from byte-level readers (utf-7).
# Codecs that are no text encodings at all (hex, base64, rot13...) are refused too (is_not_a_charset).
_NOT_CHARSETS = frozenset({"punycode", "idna", "undefined", "unicode-escape", "raw-unicode-escape", "utf-7"})
_CHARSET_PARAM = re.compile(r";\s*charset\*?\s*=\s*(\"[^\"]*\"|[^;]*)", re.IGNORECASE)

# Where tater.wsgi leaves a charset it took off the Content-Type (see refused_charset).
REFUSED_CHARSET_KEY = "tater.refused_charset"


def is_not_a_charset(name: str) -> bool:
    name = name.strip().strip('"')
    try:
        info = codecs.lookup(name)
    except LookupError:
        return False  # unknown: Django ignores it (and reads UTF-8)
    # A codec but no text encoding (hex, base64, rot13, zlib...): bytes.decode refuses it with a
    # LookupError (CPython reads this flag), which Django's query parsing does not catch.
    return info.name in _NOT_CHARSETS or not getattr(info, "_is_text_encoding", True)


def refused_charset(environ: dict[str, Any]) -> None:
    """WSGI: a Content-Type charset that is no character set is taken off before Django
    builds the request, which decodes the query in it (those that raise would end in the
    server's own 500 page, before any middleware runs). The request then reads as UTF-8;
    the charset is kept under ``REFUSED_CHARSET_KEY`` for JsonErrorsMiddleware's 415."""
    content_type = environ.get("CONTENT_TYPE") or ""
    if "charset" not in content_type.lower():
        return
    # The charset as Django reads it (the last of several; RFC 2231's charset*= too).
    charset = parse_header_parameters(content_type)[1].get("charset")
    if charset and is_not_a_charset(charset):
        environ["CONTENT_TYPE"] = _CHARSET_PARAM.sub("", content_type)  # every charset parameter
        environ[REFUSED_CHARSET_KEY] = charset


def _host_allowed(request: HttpRequest) -> bool:
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return True


def channel_for_path(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "ui"


def _kept_request_id(incoming: str) -> bool:
    """A client's ``X-Request-ID`` is kept for correlation when well formed and not a secret:
    one the logs would redact (a key pasted into the wrong header, a token, a JWT) would be
    echoed in the response, error bodies, log lines and audit entries (SPEC §2, §12)."""
    return _REQUEST_ID.fullmatch(incoming) is not None and redact(incoming) == incoming


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and an audit context."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if incoming and _kept_request_id(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request.client_ip, unknown_via = client_ip.resolve(request)  # type: ignore[attr-defined]
        ctx = context.RequestContext(
            channel=channel_for_path(request.path),
            request_id=request_id,
            ip=request.client_ip,  # type: ignore[attr-defined]
            unknown_via=unknown_via,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )
        with context.use(ctx):
            try:
                response = self.get_response(request)
            finally:
                context.finish(ctx)
        response["X-Request-ID"] = request_id
        return response


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """A Content-Security-Policy without inline script, on every response.

    Sign-in pages (/accounts/) also admit ``TATER_SSO_FORM_ACTION`` in ``form-action``:
    starting SSO posts a form whose answer redirects to the identity provider, and browsers
    apply ``form-action`` to that redirect too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        extra = settings.TATER_SSO_FORM_ACTION.strip()
        self.accounts_csp = CSP.replace("form-action 'self'", f"form-action 'self' {extra}") if extra else CSP

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.process_response(request, self.get_response(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.setdefault(
            "Content-Security-Policy", self.accounts_csp if request.path.startswith("/accounts/") else CSP
        )
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class ContextUserMiddleware:
    """Records the signed-in user as the audit actor for pages and the admin (API calls
    get theirs from DRF authentication, which runs later and knows about keys)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                ctx = context.current()
                ctx.user_id = user.pk
                ctx.extra["user_email"] = user.email
        return self.get_response(request)


# Headers an error page carries that its JSON replacement keeps.
_KEPT_ON_REPLACE = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


class JsonErrorsMiddleware:
    """Under the JSON paths (``tater.api.errors.answers_json``: /api/, /v1/, /auth/) every
    answer is JSON, and none is kept by caches (SPEC §3).

    Before anything reads the request, refuses: a body over ``TATER_MAX_UPLOAD_BYTES`` by its
    Content-Length (413, unread, on every endpoint), a malformed Content-Length (400), a body
    without one (``Transfer-Encoding: chunked``: 411, unless the view declares
    ``reads_unsized_body`` and reads it bounded itself), a charset that is no character set
    (415, ``_NOT_CHARSETS``), NUL characters in the path or query (400; PostgreSQL refuses
    them in text, as a 500).

    After: an error answered as a page (Django's DEBUG pages, another middleware's HTML)
    becomes the catalog error of its status (on a seed system's path, in that system's shape). Every answer without a Cache-Control of its
    own gets ``no-store`` (and ``Pragma: no-cache``): API answers are per caller, and
    several carry secrets (created and rotated keys, exchanged credentials, 2FA tokens).

    What it answers itself (a refusal, a replaced page) never passed the security middlewares
    further in: it gets their headers here (HSTS, ``nosniff``, ``X-Frame-Options``, CSP).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.securing = tuple(
            middleware(get_response).process_response
            for middleware in (SecurityMiddleware, XFrameOptionsMiddleware, SecurityHeadersMiddleware)
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not answers_json(request.path_info):
            return self.get_response(request)
        refusal = self.refusal(request)
        if refusal is not None:
            response: HttpResponse = self.secured(
                request, in_route_format(request, api_error_response(request, refusal))
            )
        else:
            response = self.get_response(request)
            content_type = response.get("Content-Type", "")
            if response.status_code >= 400 and not content_type.startswith("application/json"):
                response = self.secured(request, self.as_json(request, response))
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        if not response.has_header("X-RateLimit-Limit") and _no_api_view(request) and _no_caller(request):
            # SPEC §6: every API response carries them, also those no API view answered (a
            # path matching no route, a refusal above, a seed path's plain Django view): with
            # no caller identified, the client address's failed-authentication budget, as on
            # every other answer with no caller (apikeys.throttling.finish_response).
            for name, value in lockout.client_budget_headers(client_ip.client_ip(request)).items():
                response[name] = value
        return response

    def secured(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        for process_response in self.securing:
            response = process_response(request, response)
        return response

    @staticmethod
    def refusal(request: HttpRequest) -> ApiError | None:
        meta = request.META
        if settings.SECURE_SSL_REDIRECT and not request.is_secure() and _host_allowed(request):
            # No redirect for API clients: they send the request again (a POST as a GET) after
            # its key already travelled in clear; they are told instead. (A host not allowed
            # is refused further in, 400, as before.)
            return ApiError(
                "This API is served over HTTPS only: send the request to its https:// address (a key sent "
                "over plain HTTP travelled unencrypted: rotate it)",
                code="HTTPS_REQUIRED",
                status_code=403,
            )
        raw_length = (meta.get("CONTENT_LENGTH") or "").strip()
        if raw_length:
            if not (raw_length.isascii() and raw_length.isdigit()):
                return ValidationFailed(
                    "Invalid Content-Length header", details={"fields": {"Content-Length": ["Not a number"]}}
                )
            if int(raw_length) > max_body_bytes():
                return payload_too_large()
        elif meta.get("HTTP_TRANSFER_ENCODING"):
            # Django reads a body only as far as its Content-Length: a chunked one would be taken
            # for none, its fields ignored (a rotation's grace_period_seconds, a PATCH's narrower
            # scopes) and its size never measured. HTTP's answer: 411.
            if not getattr(_route_view_class(request), "reads_unsized_body", False):
                return ApiError("Send the body with a Content-Length header", code="LENGTH_REQUIRED", status_code=411)
        coding = meta.get("HTTP_CONTENT_ENCODING", "").strip()
        if (
            coding
            and coding.lower() != "identity"
            and (raw_length not in ("", "0") or meta.get("HTTP_TRANSFER_ENCODING"))
        ):
            # Bodies are read as sent: a compressed one would fail as "not valid JSON" (RFC 7694).
            return ApiError(
                f"Content-Encoding {coding[:40]!r} is not supported: send the body uncompressed",
                code="UNSUPPORTED_MEDIA_TYPE",
                status_code=415,
                headers={"Accept-Encoding": "identity"},
            )
        # Taken off by tater.wsgi; else Django's, from the Content-Type (a codec has that name).
        charset = meta.get(REFUSED_CHARSET_KEY) or request.encoding
        if charset and is_not_a_charset(charset):
            return ApiError(
                f"Unsupported charset {charset[:40]!r}: send UTF-8", code="UNSUPPORTED_MEDIA_TYPE", status_code=415
            )
        query = meta.get("QUERY_STRING", "")
        if "\x00" in request.path_info or "%00" in query or "\x00" in query:
            where = "path" if "\x00" in request.path_info else "query"
            message = f"NUL characters are not accepted in the {where}"
            return ValidationFailed(message, details={"fields": {where: [message]}})
        return None

    @staticmethod
    def as_json(request: HttpRequest, page: HttpResponse) -> HttpResponse:
        response = in_route_format(request, status_error(request, page.status_code))
        for name in _KEPT_ON_REPLACE:
            if page.has_header(name):
                response[name] = page[name]
        response.cookies = page.cookies
        return response


def _no_api_view(request: HttpRequest) -> bool:
    """No DRF view answered: none was routed to (a refusal above), the route is a miss
    (``no_route``), or the view is a plain Django one. DRF views answer for their own
    headers (their throttles, apikeys.throttling)."""
    match = request.resolver_match
    return match is None or getattr(match.func, "no_route", False) or not hasattr(match.func, "cls")


def _no_caller(request: HttpRequest) -> bool:
    """No key decision on this request and no session that may be signed in. The session
    is never loaded here (a lost database there is the fault middleware's 503, further in):
    a session cookie may be a signed-in caller's."""
    if getattr(request, "rate_limit", None) is not None:
        return False
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def _route_view_class(request: HttpRequest) -> Any:
    """The view class the path names, under either form of it (TrailingSlashMiddleware
    serves both); else the class of the catch-all answering the miss (a seed system's, under
    its own prefix: ``surfaces.urls``), or None."""
    path_info = request.path_info
    other = path_info[:-1] if path_info.endswith("/") else path_info + "/"
    miss = None
    for candidate in (path_info, other):
        try:
            match = resolve(candidate, getattr(request, "urlconf", None))
        except Resolver404:
            continue
        if getattr(match.func, "no_route", False):
            miss = miss or getattr(match.func, "view_class", None)
            continue
        return getattr(match.func, "view_class", None)
    return miss


def in_route_format(request: HttpRequest, response: JsonResponse) -> HttpResponse:
    """A catalog refusal made before any view ran, in the error format of the view the path
    names: a view answering in another system's shape (a seed system's surface, SPEC §5a)
    declares an ``envelope`` with ``error_body(status, catalog_body)``; SPEC §3: every answer
    on those paths is "in that system's error format, whatever fails". Others: unchanged."""
    present = getattr(getattr(_route_view_class(request), "envelope", None), "error_body", None)
    if present is None:
        return response
    replaced = JsonResponse(
        present(response.status_code, json.loads(response.content)), status=response.status_code, safe=False
    )
    for name, value in response.items():
        if name.lower() not in ("content-type", "content-length"):
            replaced[name] = value
    return replaced


class TrailingSlashMiddleware:
    """Both forms of an API route are served, with and without the trailing slash
    (``POST /api/v1/keys`` works like ``POST /api/v1/keys/``; SPEC §3): no redirect, which
    clients would follow with a GET, losing the method and the body.

    Only on a miss: when the path as sent finds no view (a 404 from no route), and its
    other form does, the request is dispatched again under that form. Hot paths resolve
    once, as before. Last in MIDDLEWARE, so the retry runs URL resolution, the view
    middleware (CSRF) and the view, nothing else twice.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404 or not answers_json(request.path_info):
            return response
        match = getattr(request, "resolver_match", None)
        if match is not None and not getattr(match.func, "no_route", False):
            return response  # a view answered 404 itself
        path_info = request.path_info
        other = path_info[:-1] if path_info.endswith("/") else path_info + "/"
        try:
            found = resolve(other, getattr(request, "urlconf", None))
        except Resolver404:
            return response
        if getattr(found.func, "no_route", False):
            return response
        request.path_info = other
        request.path = request.path[:-1] if request.path.endswith("/") else request.path + "/"
        return self.get_response(request)
