"""SPEC §10 (operators work in the admin), §2 (no secret there), §1 (a tenant's name is its
owner's text). Review A (s41) clicked through the admin as a superuser, over data holding a row
of every model it shows (a tenant and a key named with HTML, invitations, scans, rotated keys,
SCIM tokens, users and groups, second factors, SSO, an account deleted after it left entries in
the log, the admin's own "Recent actions"): every link a page renders must lead to an admin page
that exists (a model the admin does not register, e.g. invitations or scans, is named, never
linked), every page answers, and no page writes a name's HTML unescaped or shows a key's secret
or digest. This held; the test guards it as the admin grows. One page per kind of link is opened
(each route with each set of query parameters), every other link is resolved without a request."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts.models import UserSession
from apikeys import services as key_services
from orgs import members
from orgs.models import Tenant
from scans.services import scan_upload
from scim.services.tokens import scim_token_create
from tests.accounts.conftest import enrol
from tests.factories import UserFactory, add_member, make_key, make_passkey, make_tenant, require_sso
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db
HTML_NAME = '<script>alert("tater")</script><img src=x onerror=alert(1)>'
HREF = re.compile(r'href="([^"]*)"')
NOT_OPENED = ("/logout/", "/password_change/", "/password/")  # they act (sign out, a page elsewhere)


def _world() -> list[str]:
    """A row of everything the admin shows; returns the secrets no page may show."""
    tenant, owner, (org, _) = make_tenant(name=f"{HTML_NAME} MSP", orgs=2, plan="pro")
    member = add_member(org, "member")
    leaver = add_member(org, "viewer")
    never_verified = UserFactory(verified=False)
    for email in ("new@example.com", never_verified.email):
        members.member_add_by_email(
            organization=org, email=email, role="member", actor=owner, accept_url=lambda token: f"/i/{token}"
        )
    key, raw = make_key(user=owner, tenant=tenant, org=org, name=f"{HTML_NAME} key")
    member_key, _ = make_key(user=member, tenant=tenant, org=org, name="member key", scopes=["scans:write"])
    rotated = key_services.apikey_rotate(api_key=member_key, actor=member, grace_period_seconds=3600)
    unbound, unbound_raw = make_key(user=owner, tenant=tenant, org=None, name="unbound")
    key_services.apikey_revoke(api_key=unbound, actor=owner)
    now = timezone.now()
    scan_upload(
        organization=org,
        scanner=HTML_NAME,
        target="host",
        started_at=now - timedelta(hours=1),
        findings=[{"title": HTML_NAME, "severity": "high"}],
        uploaded_by_user=owner,
    )
    scim = scim_token_create(tenant=tenant, name="Okta", actor=owner)
    enrol(owner)
    make_passkey(owner, 1)
    require_sso(tenant, "msp.test")
    group = Group.objects.create(name="Help desk")
    group.permissions.set(Permission.objects.filter(codename__startswith="view_")[:5])
    UserSession.objects.create(user=member, session_key="s" * 32, ip="192.0.2.1")
    # An account that left entries in the log, then was deleted: the log keeps its id.
    from accounts.services import user_deleted_by_operator

    user_deleted_by_operator(user=leaver)
    leaver.delete()
    return [raw, rotated.key, unbound_raw, scim.secret, scim.token.digest, key.digest, member_key.digest]


def _links(page_url: str, html: str) -> list[str]:
    found = []
    for href in HREF.findall(html):
        parts = urlsplit(urljoin(page_url, unescape(href)))
        if parts.netloc or not parts.path.startswith("/admin/"):
            continue
        query = "&".join(f"{k}={v}" for k, v in parse_qsl(parts.query) if k != "_changelist_filters")
        found.append(parts.path + (f"?{query}" if query else ""))
    return found


def _kind(url: str) -> tuple[str, frozenset[str]]:
    """The admin page a link leads to (its route and query parameters); Resolver404 when none:
    a path no route names falls to the admin's catch-all view, which answers 404."""
    parts = urlsplit(url)
    match = resolve(parts.path)
    if match.url_name is None:
        raise Resolver404(url)
    return match.view_name, frozenset(k for k, _ in parse_qsl(parts.query))


def test_every_admin_link_leads_to_a_page_and_no_page_leaks_html_or_secrets() -> None:
    secrets = _world()
    admin = superuser_in_admin()
    # "Recent actions" on the index: one change made through the admin.
    tenant = Tenant.objects.get(name__startswith=HTML_NAME)
    change = f"/admin/orgs/tenant/{tenant.pk}/change/"
    assert admin.post(change, {**admin_form_data(admin, change), "plan": "enterprise"}).status_code == 302

    opened: dict[tuple[str, frozenset[str]], str] = {}
    queue, problems = ["/admin/"], []
    while queue:
        url = queue.pop(0)
        try:
            kind = _kind(url)
        except Resolver404:
            problems.append(f"{url}: no such admin page")
            continue
        if kind in opened or any(part in url for part in NOT_OPENED):
            continue
        opened[kind] = url
        r = admin.get(url)
        if r.status_code not in (200, 302):
            problems.append(f"{url}: {r.status_code}")
            continue
        if r.status_code == 302 or "html" not in r.get("Content-Type", ""):
            continue
        html = r.content.decode()
        if HTML_NAME in html:
            problems.append(f"{url}: a name's HTML written unescaped")
        problems += [f"{url}: shows a key's secret or digest" for secret in secrets if secret in html]
        queue += _links(url, html)

    assert not problems, "\n".join(problems)
    views = {view for view, _ in opened}
    assert {"admin:orgs_tenant_change", "admin:apikeys_apikey_change", "admin:audit_auditevent_change"} <= views
    assert len(opened) > 100, len(opened)
