from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tater import context
from tater.client_ip import client_ip

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def channel_for_path(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "ui"


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID``) and an audit context."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request.client_ip = client_ip(request)  # type: ignore[attr-defined]
        ctx = context.RequestContext(
            channel=channel_for_path(request.path),
            request_id=request_id,
            ip=request.client_ip,  # type: ignore[attr-defined]
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        )
        with context.use(ctx):
            response = self.get_response(request)
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
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.accounts_csp if request.path.startswith("/accounts/") else CSP)
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
