"""SSO returns under a ``SameSite=Strict`` session cookie: the same-site bounce.

The identity provider sends the browser back to Tater with a cross-site navigation (OIDC,
Google, Microsoft: a GET to the callback; SAML: an auto-POST to the ACS). Browsers do not
send ``SameSite=Strict`` cookies on cross-site requests, so allauth would not find the
login state it stashed in the session (the OAuth ``state``/PKCE verifier, the SAML
AuthnRequest id) and the sign-in would fail (django-allauth#3232).

``SSOBounceMiddleware`` answers such a request — and only for the SSO return endpoints —
with a tiny page served from Tater's own origin that re-issues the very same request
(GET: meta refresh + a "Continue" link; POST: the same fields as hidden inputs, posted by
``static/js/sso-bounce.js`` or a "Continue" button). That second request is same-origin,
carries the Strict session cookie, and is processed by allauth as usual. A marker
(``_tater_bounce=1``: in the query string for GET, a form field for POST, so the ACS URL
python3-saml compares stays exactly the one the IdP posted to) means a request is never
bounced twice.

Security: the bounce lifts SameSite for these endpoints only, which by design must accept
cross-site arrivals; their real protection is unchanged (the OAuth ``state`` and PKCE
bound to the session, the SAML InResponseTo bound to the session, signatures). Every other
URL keeps Strict semantics. The page is ``no-store``, ``no-referrer`` (the URL carries the
OAuth code) and not frameable, and the first leg never touches the session, so no fresh
session cookie can replace the browser's real one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers
from django.utils.encoding import escape_uri_path

from tater.middleware import CSP

logger = logging.getLogger(__name__)

MARKER = "_tater_bounce"
# allauth's return endpoints for the providers Tater installs. saml_finish_acs is reached
# by a redirect from the ACS; it is listed so a return that still arrives cross-site there
# gets its cookies too.
RETURN_URL_NAMES = frozenset(
    {"openid_connect_callback", "google_callback", "microsoft_callback", "saml_acs", "saml_finish_acs"}
)
# Cheap pre-filter before resolving the path: every return endpoint ends like this.
_PATH_HINTS = ("/callback/", "/acs/", "/acs/finish/")


def return_endpoint(request: HttpRequest) -> str | None:
    """The URL name when the request is for an SSO return endpoint, else None."""
    path = request.path_info
    if not path.endswith(_PATH_HINTS):
        return None
    try:
        match = resolve(path, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    return match.url_name if match.url_name in RETURN_URL_NAMES else None


def arrived_cross_site(request: HttpRequest) -> bool:
    """Did the browser withhold the Strict session cookie on this request?

    Fetch metadata answers it: browsers send ``Sec-Fetch-Site`` to HTTPS origins and
    localhost, and ``cross-site`` is exactly the case where Strict cookies are withheld
    (``same-site``, e.g. an IdP on a sibling subdomain, still gets them). Without the
    header (an older browser, or plain-HTTP hosting) the tell-tale is a page navigation
    (it accepts HTML) that carries no session cookie at all: the return leg needs the
    session the sign-in started in, so it would fail anyway; a bounce costs one page.
    """
    site = request.META.get("HTTP_SEC_FETCH_SITE")
    if site is not None:
        return site.strip().lower() == "cross-site"
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "text/html" in request.META.get("HTTP_ACCEPT", "")


def already_bounced(request: HttpRequest) -> bool:
    return MARKER in request.GET or (request.method == "POST" and MARKER in request.POST)


def needs_bounce(request: HttpRequest) -> str | None:
    """The return endpoint's URL name when this request must be bounced, else None."""
    if request.method not in ("GET", "POST") or request.path.startswith("//"):
        return None  # "//…" could read as another host in the page's URL: never bounced
    name = return_endpoint(request)
    if name is None or not arrived_cross_site(request) or already_bounced(request):
        return None
    if request.method == "POST" and request.FILES:
        return None  # files cannot be re-posted from a page; no IdP sends any
    return name


def _target(request: HttpRequest, query: QueryDict) -> str:
    # A path-only, same-origin URL: resolve() proved it is one of our endpoints and
    # needs_bounce() refused "//…" (a scheme-relative URL to another host).
    path = escape_uri_path(request.path)
    encoded = query.urlencode()  # re-encoded: no quote or ";" survives into the refresh
    return f"{path}?{encoded}" if encoded else path


def bounce_response(request: HttpRequest) -> HttpResponse:
    """The same-origin page that re-issues ``request`` (GET or POST) with the marker."""
    if request.method == "GET":
        query = request.GET.copy()
        query[MARKER] = "1"
        context: dict[str, Any] = {"method": "GET", "target": _target(request, query), "marker": MARKER}
    else:
        fields = [(name, value) for name, values in request.POST.lists() for value in values]
        context = {"method": "POST", "target": _target(request, request.GET), "fields": fields, "marker": MARKER}
    response = HttpResponse(render_to_string("accounts/sso_bounce.html", context))
    # The URL/fields carry the OAuth code or the SAML response: never cached, never sent
    # on as a Referer, never shown inside someone else's frame. Inner middleware (the CSP
    # one) does not see this response, so its headers are set here.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = CSP
    response["Cross-Origin-Opener-Policy"] = "same-origin"
    patch_vary_headers(response, ("Sec-Fetch-Site", "Cookie"))
    return response


class SSOBounceMiddleware:
    """Bounce cross-site SSO returns through a same-origin page (see the module docstring).

    Sits right after SessionMiddleware: after SecurityMiddleware (HTTPS redirect first) and
    before CSRF, authentication, messages and allauth, so the first (cookie-less) leg is
    answered before anything could load, create or save a session — a fresh session
    cookie set on that leg would replace the browser's real one and lose the login state.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = needs_bounce(request)
        if name is not None:
            # The URL name only: the query string carries the authorization code.
            logger.info("sso bounce: %s %s re-issued same-origin", request.method, name)
            return bounce_response(request)
        return self.get_response(request)
