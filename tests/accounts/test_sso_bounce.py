"""The same-site bounce for SSO returns (accounts/sso_bounce.py), with the Django test client.

The test client sends cookies whatever SameSite says, so a browser's cross-site return is
played by a second client that has no cookies and sends ``Sec-Fetch-Site: cross-site``
(what Chromium does; see test_sso_browser.py for the real thing). The bounced request is
then sent by the client that holds the session, as the browser does from the bounce page.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client, RequestFactory

from accounts import sso
from accounts.sso_bounce import MARKER, needs_bounce
from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.saml_idp import SAMLIdP
from tests.factories import make_tenant, oidc_sso

pytestmark = pytest.mark.django_db

EMAIL_ATTR = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
CROSS_SITE = {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ACCEPT": "text/html,application/xhtml+xml"}
SAME_ORIGIN = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ACCEPT": "text/html,application/xhtml+xml"}
BOUNCE_TITLE = "Continuing sign-in"


class Page(HTMLParser):
    """The parts of a bounce page a browser acts on."""

    def __init__(self, content: bytes) -> None:
        super().__init__()
        self.refresh: str | None = None
        self.links: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.inputs: list[tuple[str, str]] = []
        self.scripts: list[dict[str, str | None]] = []
        self.buttons = 0
        self.feed(content.decode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.refresh = a.get("content")
        elif tag == "a":
            self.links.append(a.get("href") or "")
        elif tag == "form":
            self.forms.append({k: v or "" for k, v in a.items()})
        elif tag == "input":
            self.inputs.append((a.get("name") or "", a.get("value") or ""))
        elif tag == "script":
            self.scripts.append(a)
        elif tag == "button":
            self.buttons += 1


def assert_bounce_headers(response: Any) -> None:
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    # The first leg must never set a cookie: a fresh session cookie would replace the
    # browser's real (withheld) one and lose the login state.
    assert not response.cookies


def is_bounce(response: Any) -> bool:
    return response.status_code == 200 and BOUNCE_TITLE.encode() in response.content


# --- OIDC ------------------------------------------------------------------------------------


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def oidc_config(idp: OIDCProvider) -> Any:
    tenant, owner, (org,) = make_tenant(name="Acme")
    verified_domain(tenant, "acme.test")
    return oidc_sso(tenant, owner, idp, default_role="member")


def oidc_return(client: Client, idp: OIDCProvider, email: str = "jane@acme.test") -> str:
    """Start the sign-in in ``client`` and come back from the IdP: the callback path + query."""
    idp.claims = {"sub": f"sub-{email}", "email": email, "email_verified": True}
    routed = client.post("/accounts/login/", {"login": email, "password": "", "sso": "1"})
    start = client.post(routed["Location"])
    assert start.status_code == 302 and start["Location"].startswith(idp.issuer), start
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    return f"{callback.path}?{callback.query}"


def test_cross_site_oidc_callback_is_bounced_and_the_bounce_completes_the_sign_in(
    idp: OIDCProvider, oidc_config: Any
) -> None:
    browser = Client()
    callback = oidc_return(browser, idp)
    states_before = dict(browser.session["socialaccount_states"])
    assert len(states_before) == 1

    # The IdP's cross-site redirect: the browser withholds the Strict cookie.
    first = Client().get(callback, **CROSS_SITE)
    assert_bounce_headers(first)
    page = Page(first.content)
    target = f"{callback}&{MARKER}=1"
    assert page.refresh == f"0;url={target}"
    assert page.links == [target]  # the visible "Continue" link, for a refresh that does not happen
    assert b"&amp;_tater_bounce=1" in first.content  # the URL is HTML-escaped in the markup
    # Nothing was consumed: the state is still stashed and nobody was created.
    assert dict(browser.session["socialaccount_states"]) == states_before
    assert not SocialAccount.objects.exists()

    # The refresh, now same-origin: the session cookie is sent, allauth signs the user in.
    done = browser.get(target, **SAME_ORIGIN)
    assert done.status_code == 302 and done["Location"] == "/", done.content[:800]
    assert browser.get("/api/v1/me").json()["user"]["email"] == "jane@acme.test"
    assert SocialAccount.objects.get().uid == "sub-jane@acme.test"
    assert "socialaccount_states" not in browser.session or not browser.session["socialaccount_states"]


def test_bounce_url_is_rebuilt_encoded(oidc_config: Any) -> None:
    """Quotes, semicolons and markup in the query cannot break out of the refresh or the link."""
    path = f"/accounts/oidc/{oidc_config.provider_id}/login/callback/"
    hostile = {"code": "a'b;url=https://evil.test/\"><script>x</script>", "state": "s t"}
    response = Client().get(f"{path}?{urlencode(hostile)}", **CROSS_SITE)
    assert_bounce_headers(response)
    page = Page(response.content)
    assert b"<script>x" not in response.content
    target = page.refresh.removeprefix("0;url=")
    assert target.startswith(f"{path}?") and "'" not in target and ";" not in target and '"' not in target
    assert dict(parse_qsl(urlparse(target).query)) == {**hostile, MARKER: "1"}
    assert all(s.get("src") for s in page.scripts)  # no inline script (the CSP forbids it)


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_google_and_microsoft_callbacks_are_bounced(db: Any, provider: str) -> None:
    response = Client().get(f"/accounts/{provider}/login/callback/?code=c&state=s", **CROSS_SITE)
    assert_bounce_headers(response)
    assert Page(response.content).refresh == f"0;url=/accounts/{provider}/login/callback/?code=c&state=s&{MARKER}=1"


def test_bounced_request_is_never_bounced_again(idp: OIDCProvider, oidc_config: Any) -> None:
    browser = Client()
    callback = oidc_return(browser, idp)
    # Still cross-site with the marker (a crafted link, or a browser that keeps withholding
    # the cookie): handed to allauth, which finds no state. No loop.
    again = Client().get(f"{callback}&{MARKER}=1", **CROSS_SITE)
    assert not is_bounce(again)
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize(
    ("site", "cookie", "accept", "bounced"),
    [
        ("cross-site", True, "*/*", True),  # Fetch metadata decides when present
        ("cross-site", False, "", True),
        ("same-site", False, "text/html", False),  # e.g. the IdP on a sibling subdomain: cookie sent
        ("same-origin", False, "text/html", False),
        ("none", False, "text/html", False),  # typed or bookmarked
        (None, False, "text/html,*/*", True),  # no Fetch metadata: a navigation without session cookie
        (None, True, "text/html", False),
        (None, False, "application/json", False),  # not a browser page load
        (None, False, "", False),
    ],
)
def test_which_returns_are_bounced(
    oidc_config: Any, site: str | None, cookie: bool, accept: str, bounced: bool
) -> None:
    client = Client()
    if cookie:
        client.cookies["sessionid"] = "x" * 32
    headers = {"HTTP_ACCEPT": accept}
    if site is not None:
        headers["HTTP_SEC_FETCH_SITE"] = site
    response = client.get(f"/accounts/oidc/{oidc_config.provider_id}/login/callback/?code=c&state=s", **headers)
    assert is_bounce(response) is bounced


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/accounts/login/"),
        ("post", "/accounts/login/"),
        ("get", "/"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/auth/login"),
        ("get", "/accounts/oidc/{provider_id}/login/"),  # the start of the flow, not its return
        ("post", "/accounts/oidc/{provider_id}/login/"),
        ("get", "/accounts/saml/{provider_id}/metadata/"),
        ("get", "/accounts/callback/"),  # looks like a return, is not one
        ("get", "/static/callback/"),
    ],
)
def test_other_urls_are_never_bounced(oidc_config: Any, method: str, path: str) -> None:
    url = path.format(provider_id=oidc_config.provider_id) + "?code=c&state=s"
    response = getattr(Client(), method)(url, **CROSS_SITE)
    assert not is_bounce(response), (response.status_code, response.content[:300])
    assert MARKER.encode() not in response.content


def test_scheme_relative_path_is_never_bounced(oidc_config: Any) -> None:
    """A path such as "//host/…" (the test client would read it as a host): no page that could
    send the browser to another host is ever built."""
    request = RequestFactory().request(
        PATH_INFO=f"//evil.test/accounts/oidc/{oidc_config.provider_id}/login/callback/",
        REQUEST_METHOD="GET",
        QUERY_STRING="code=c&state=s",
        **CROSS_SITE,
    )
    assert needs_bounce(request) is None
    ok = RequestFactory().request(
        PATH_INFO=f"/accounts/oidc/{oidc_config.provider_id}/login/callback/",
        REQUEST_METHOD="GET",
        QUERY_STRING="code=c&state=s",
        **CROSS_SITE,
    )
    assert needs_bounce(ok) == "openid_connect_callback"


# --- SAML ------------------------------------------------------------------------------------


@pytest.fixture
def saml_idp() -> SAMLIdP:
    return SAMLIdP()


@pytest.fixture
def saml_config(saml_idp: SAMLIdP) -> Any:
    tenant, owner, (org,) = make_tenant(name="Acme")
    verified_domain(tenant, "acme.test")
    return sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": saml_idp.entity_id,
            "idp_sso_url": saml_idp.sso_url,
            "idp_x509_cert": saml_idp.keys.cert_pem,
            "default_role": "member",
        },
    )


def saml_browser() -> Client:
    return Client(HTTP_HOST="localhost")  # python3-saml refuses single-label hosts such as "testserver"


def test_cross_site_saml_post_is_bounced_with_every_field_and_the_bounce_completes_the_sign_in(
    saml_idp: SAMLIdP, saml_config: Any
) -> None:
    browser = saml_browser()
    routed = browser.post("/accounts/login/", {"login": "jane@acme.test", "password": "", "sso": "1"})
    to_idp = browser.post(routed["Location"])
    request = saml_idp.read_request(to_idp["Location"])
    xml = saml_idp.response(request, name_id="00u-jane", attributes={EMAIL_ATTR: "jane@acme.test"})
    acs = urlparse(request.acs_url).path
    relay = "\"><script>alert(1)</script>&amp;'<b>"  # hostile markup must come back byte for byte
    fields = [*SAMLIdP.post_data(xml, relay).items(), ("extra", "one"), ("extra", "two & <three>")]
    states_before = dict(browser.session["socialaccount_states"])

    first = saml_browser().post(acs, urlencode(fields), content_type="application/x-www-form-urlencoded", **CROSS_SITE)
    assert_bounce_headers(first)
    page = Page(first.content)
    assert b"<script>alert" not in first.content and b"<b>" not in first.content
    assert len(page.forms) == 1 and page.forms[0]["method"] == "post" and page.forms[0]["action"] == acs
    # Every field, in order, repeated ones too, then the marker.
    assert page.inputs == [*fields, (MARKER, "1")]
    assert page.buttons == 1  # "Continue" without JavaScript
    assert [s.get("src") for s in page.scripts] == ["/static/js/sso-bounce.js"]
    assert page.refresh is None
    assert dict(browser.session["socialaccount_states"]) == states_before  # the AuthnRequest is still stashed

    # The bounce page posts the same fields from Tater's origin: the session cookie comes
    # along and allauth + python3-saml accept the response (the ACS URL is unchanged).
    posted = browser.post(
        page.forms[0]["action"],
        urlencode(page.inputs),
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN="http://localhost",
        **SAME_ORIGIN,
    )
    assert posted.status_code == 302, posted.content[:500]
    done = browser.get(posted["Location"], **SAME_ORIGIN)
    assert done.status_code == 302 and done["Location"] == "/", done.content[:1500]
    assert browser.get("/api/v1/me").json()["user"]["email"] == "jane@acme.test"
    assert SocialAccount.objects.get().uid == "00u-jane"


def test_saml_finish_step_reached_cross_site_is_bounced(saml_config: Any) -> None:
    finish = f"/accounts/saml/{saml_config.provider_id}/acs/finish/"
    response = saml_browser().get(finish, **CROSS_SITE)
    assert_bounce_headers(response)
    assert Page(response.content).refresh == f"0;url={finish}?{MARKER}=1"


def test_bounced_saml_post_is_never_bounced_again(saml_idp: SAMLIdP, saml_config: Any) -> None:
    acs = f"/accounts/saml/{saml_config.provider_id}/acs/"
    data = {**SAMLIdP.post_data("<x/>"), MARKER: "1"}
    response = saml_browser().post(acs, data, **CROSS_SITE)
    # Handed to allauth's ACS view, which stores the post and moves on to its finish step.
    assert response.status_code == 302 and response["Location"].endswith("/acs/finish/")


def test_saml_acs_is_csrf_exempt_for_the_bounced_post(saml_config: Any) -> None:
    """The re-post carries no CSRF token (the IdP's response is signed): it must not be refused."""
    acs = f"/accounts/saml/{saml_config.provider_id}/acs/"
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    response = client.post(acs, {"SAMLResponse": "eA==", "RelayState": "", MARKER: "1"}, **SAME_ORIGIN)
    assert response.status_code == 302
