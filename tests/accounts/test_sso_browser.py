"""SSO in a real browser with the session cookie SameSite=Strict (accounts/sso_bounce.py).

Chromium signs in email-first through an identity provider that runs on a different site
than the app (app: http://localhost:<port>, IdP: http://127.0.0.1:<port>), with a sign-in
page of its own: the way back to Tater is initiated by the IdP's document, a cross-site
navigation, exactly as with a real IdP. Each flow is run twice: with the bounce middleware
(ends signed in on the dashboard) and with the app rebuilt without it (the browser withholds
the Strict cookie and the sign-in fails), which shows what the test proves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import quoteattr

import pytest
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from accounts import sso
from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.saml_idp import SAMLIdP
from tests.browser import chromium as launch_chromium
from tests.browser import needs_chromium
from tests.factories import make_tenant, oidc_sso

BOUNCE = "accounts.sso_bounce.SSOBounceMiddleware"
EMAIL_ATTR = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    needs_chromium,
]


def _html(handler: BaseHTTPRequestHandler, body: str) -> None:
    data = body.encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _sign_in_page(action: str, fields: dict[str, str], method: str = "post") -> str:
    inputs = "".join(f"<input type=hidden name={quoteattr(k)} value={quoteattr(v)}>" for k, v in fields.items())
    return (
        "<!doctype html><title>Acme IdP</title><h1>Acme identity provider</h1>"
        f"<form method={quoteattr(method)} action={quoteattr(action)}>{inputs}"
        '<button id="idp-sign-in" type="submit">Sign in</button></form>'
    )


class BrowserOIDCProvider(OIDCProvider):
    """The loopback OIDC provider with a sign-in page: GET /authorize shows a form, its POST
    redirects back to Tater (a real IdP answers the user's own form post with that redirect)."""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler()
        provider = self

        class Handler(base):  # type: ignore[misc,valid-type]
            def do_GET(self) -> None:  # noqa: N802
                url = urlparse(self.path)
                if url.path != "/authorize":
                    return super().do_GET()
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                _html(self, _sign_in_page("/authorize/approve", query))

            def do_POST(self) -> None:  # noqa: N802
                if urlparse(self.path).path != "/authorize/approve":
                    return super().do_POST()
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                self.send_response(302)
                self.send_header("Location", provider.authorize(form))
                self.end_headers()

        return Handler


class BrowserSAMLIdP(SAMLIdP):
    """tests/accounts/saml_idp.py's IdP behind HTTP on loopback: its SSO URL reads the
    AuthnRequest and shows a sign-in page whose form posts the signed response to the ACS
    (the HTTP-POST binding)."""

    def __init__(self) -> None:
        super().__init__()
        self.name_id, self.email = "", ""
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                request = idp.read_request(self.path)
                relay = parse_qs(urlparse(self.path).query).get("RelayState", [""])[0]
                xml = idp.response(request, name_id=idp.name_id, attributes={EMAIL_ATTR: idp.email})
                _html(self, _sign_in_page(request.acs_url, SAMLIdP.post_data(xml, relay)))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.sso_url = f"{self.origin}/saml/sso"

    def __enter__(self) -> BrowserSAMLIdP:
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    with launch_chromium() as browser:
        yield browser


@contextmanager
def app_without_bounce(live_server: Any) -> Iterator[None]:
    """The live server's application rebuilt with MIDDLEWARE minus the bounce (the server
    thread loaded its middleware at start-up, so overriding the setting alone is not enough)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.handlers.wsgi import WSGIHandler

    httpd = live_server.thread.httpd
    original = httpd.get_app()
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m != BOUNCE]):
        httpd.set_app(StaticFilesHandler(WSGIHandler()))
        try:
            yield
        finally:
            httpd.set_app(original)


def start_sso(page: Any, email: str) -> None:
    """Email-first: "Continue with SSO" routes the email's domain to allauth's "Sign in via …"
    confirmation page of the tenant's IdP."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.get_by_role("button", name="Continue with SSO").click()
    page.wait_for_url("**/login/")


def continue_to_idp(page: Any) -> None:
    """Click allauth's confirmation button; its POST answers with a redirect to the IdP,
    which the sign-in pages' CSP admits (TATER_SSO_FORM_ACTION)."""
    page.get_by_role("button", name="Continue").click()


@dataclass
class Flow:
    context: Any
    page: Any
    requests: list[tuple[str, str, str]]  # (method, URL, body) of every request to Tater
    csp_errors: list[str]

    def signed_in(self) -> bool:
        return self.context.request.get("/api/v1/me").status == 200


def sso_sign_in(browser: Any, live_server: Any, email: str, idp_origin: str) -> Flow:
    """Email-first SSO in a fresh browser profile, up to where the browser settles back at Tater."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    flow = Flow(context, page, [], [])
    page.on(
        "request",
        lambda r: r.url.startswith(live_server.url) and flow.requests.append((r.method, r.url, r.post_data or "")),
    )
    page.on("console", lambda msg: "Content Security Policy" in msg.text and flow.csp_errors.append(msg.text))
    start_sso(page, email)
    continue_to_idp(page)
    assert page.url.startswith(idp_origin)
    # The user signs in at the IdP, whose page sends the browser back to Tater: cross-site.
    page.click("#idp-sign-in")
    page.wait_for_url(f"{live_server.url}/**")
    page.wait_for_load_state("networkidle")  # a bounce page, if any, moves on by itself
    return flow


def assert_signed_in_on_dashboard(flow: Flow, live_server: Any) -> None:
    flow.page.wait_for_url(f"{live_server.url}/")
    assert "signed-in" in (flow.page.locator("body").get_attribute("class") or "")
    assert flow.signed_in()
    assert flow.csp_errors == []  # the bounce page's script is a static file, allowed by the CSP


def test_oidc_sign_in_across_sites_with_strict_session_cookie(
    live_server: Any, chromium: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.SESSION_COOKIE_SAMESITE == "Strict"
    # allauth 65's OAuth2 callback has a bounce of its own for GETs that find no state; it is
    # switched off here so that the middleware alone is under test (and the "without" run can fail).
    monkeypatch.setattr(OAuth2CallbackView, "_redirect_strict_samesite", lambda self, request, provider: None)
    with BrowserOIDCProvider() as idp:
        assert urlparse(idp.issuer).hostname != urlparse(live_server.url).hostname  # two sites
        tenant, owner, _orgs = make_tenant(name="Acme")
        verified_domain(tenant, "acme.test")
        oidc_sso(tenant, owner, idp, default_role="member")
        # Without the bounce, the browser withholds the Strict cookie on the way back: refused.
        idp.claims = {"sub": "00u-bob", "email": "bob@acme.test", "email_verified": True}
        with app_without_bounce(live_server):
            flow = sso_sign_in(chromium, live_server, "bob@acme.test", idp.issuer)
            assert not flow.signed_in(), flow.page.url
            assert not get_user_model().objects.filter(email="bob@acme.test").exists()
            flow.context.close()

        idp.claims = {"sub": "00u-jane", "email": "jane@acme.test", "email_verified": True}
        flow = sso_sign_in(chromium, live_server, "jane@acme.test", idp.issuer)
        assert_signed_in_on_dashboard(flow, live_server)
        callbacks = [url for method, url, _ in flow.requests if "/login/callback/" in url]
        assert len(callbacks) == 2 and "_tater_bounce=1" in callbacks[1], callbacks
        assert SocialAccount.objects.get(uid="00u-jane").user.email == "jane@acme.test"
        flow.context.close()


def test_saml_sign_in_across_sites_with_strict_session_cookie(live_server: Any, chromium: Any) -> None:
    with BrowserSAMLIdP() as idp:
        assert urlparse(idp.sso_url).hostname != urlparse(live_server.url).hostname
        tenant, owner, _orgs = make_tenant(name="Acme")
        verified_domain(tenant, "acme.test")
        sso.sso_config_save(
            tenant=tenant,
            actor=owner,
            values={
                "protocol": "saml",
                "idp_entity_id": idp.entity_id,
                "idp_sso_url": idp.sso_url,
                "idp_x509_cert": idp.keys.cert_pem,
                "default_role": "member",
            },
        )
        # allauth has no bounce for the ACS POST: without the middleware the sign-in fails.
        idp.name_id, idp.email = "00u-bob", "bob@acme.test"
        with app_without_bounce(live_server):
            flow = sso_sign_in(chromium, live_server, "bob@acme.test", idp.origin)
            assert not flow.signed_in(), flow.page.url
            assert not get_user_model().objects.filter(email="bob@acme.test").exists()
            flow.context.close()

        idp.name_id, idp.email = "00u-jane", "jane@acme.test"
        flow = sso_sign_in(chromium, live_server, "jane@acme.test", idp.origin)
        assert_signed_in_on_dashboard(flow, live_server)
        posts = [(url, body) for method, url, body in flow.requests if method == "POST" and url.endswith("/acs/")]
        # The IdP's cross-site post, then the same fields re-posted from Tater's page (with the marker).
        assert len(posts) == 2 and "_tater_bounce=1" in posts[1][1], posts
        assert parse_qs(posts[0][1])["SAMLResponse"] == parse_qs(posts[1][1])["SAMLResponse"]
        assert SocialAccount.objects.get(uid="00u-jane").user.email == "jane@acme.test"
        flow.context.close()


def test_sso_start_form_reaches_the_idp(live_server: Any, chromium: Any) -> None:
    with BrowserOIDCProvider() as idp:
        tenant, owner, _orgs = make_tenant(name="Acme")
        verified_domain(tenant, "acme.test")
        oidc_sso(tenant, owner, idp)
        context = chromium.new_context(base_url=live_server.url)
        page = context.new_page()
        start_sso(page, "jane@acme.test")
        page.get_by_role("button", name="Continue").click()
        try:
            page.wait_for_url(f"{idp.issuer}/**", timeout=3_000)
        finally:
            context.close()
