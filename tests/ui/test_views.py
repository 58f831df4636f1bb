"""Server-side tests of the UI pages (Django test client): who may open what, the
show-once key, confirmations with POST + CSRF, and the org switcher."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from apikeys.models import ApiKey
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"tater_[0-9a-f]{32}")


def _select(client: Any, org: Any) -> None:
    response = client.post(reverse("org_switch"), {"org": org.public_id, "next": "/"})
    assert response.status_code == 302


def test_pages_need_sign_in(client: Any) -> None:
    for name in ("dashboard", "apikey_list", "apikey_create", "members", "tenant_settings"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_viewer_cannot_open_key_creation(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["viewer"])
    response = client.get(reverse("apikey_create"))
    assert response.status_code == 403
    assert "permission" in response.content.decode().lower()
    response = client.post(
        reverse("apikey_create"), {"name": "sneaky", "type": "standard", "binding": "org", "preset": "read_only"}
    )
    assert response.status_code == 403
    assert not ApiKey.objects.filter(name="sneaky").exists()
    # The list is readable, without the generate button.
    listing = client.get(reverse("apikey_list"))
    assert listing.status_code == 200
    assert reverse("apikey_create") not in listing.content.decode()


def test_other_tenants_key_page_is_404(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    foreign = world["other_key"]
    assert client.get(reverse("apikey_detail", args=[foreign.public_id])).status_code == 404
    for action in ("rotate", "revoke", "deactivate"):
        assert client.get(reverse(f"apikey_{action}", args=[foreign.public_id])).status_code == 404
        assert client.post(reverse(f"apikey_{action}", args=[foreign.public_id])).status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None and foreign.is_active


def test_member_sees_only_own_keys(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["member"])
    page = client.get(reverse("apikey_list")).content.decode()
    assert "member key" in page and "owner key" not in page
    assert client.get(reverse("apikey_detail", args=[world["owner_key"].public_id])).status_code == 404


def test_create_key_shows_it_once(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    _select(client, world["org1"])
    response = client.post(
        reverse("apikey_create"),
        {
            "name": "RMM sync",
            "type": "standard",
            "binding": "org",
            "preset": "limited",
            "perm_scans": "write",
            "perm_keys": "read",
            "expires_in": "30",
            "allowed_ips": "203.0.113.0/24\n10.0.0.1",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    keys = set(KEY_RE.findall(body))
    assert len(keys) == 1
    secret = keys.pop()
    assert "no-store" in response["Cache-Control"]
    assert "only time the full key is shown" in body
    api_key = ApiKey.objects.get(name="RMM sync")
    # Snippets carry the key and the ids, TATER style.
    assert f"X-API-Key: {secret}" in body
    assert f"tenantId={world['tenant'].public_id}" in body
    assert f"organizationId={world['org1'].public_id}" in body
    assert "Invoke-WebRequest" in body and "requests.post" in body
    assert api_key.organization_id == world["org1"].pk
    assert sorted(api_key.scopes) == ["keys:read", "scans:write"]
    assert api_key.allowed_ips == ["10.0.0.1/32", "203.0.113.0/24"]
    assert api_key.expires_at is not None
    # The key is neither in the session nor in any later page.
    assert secret not in str(dict(client.session.items()))
    for url in (
        reverse("apikey_list"),
        reverse("apikey_detail", args=[api_key.public_id]),
        reverse("dashboard"),
        reverse("apikey_create"),
    ):
        assert secret not in client.get(url).content.decode()
    assert api_key.display_prefix in client.get(reverse("apikey_list")).content.decode()


def test_create_key_errors_are_shown_on_the_form(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    _select(client, world["org1"])
    response = client.post(
        reverse("apikey_create"),
        {
            "name": "bad ips",
            "type": "standard",
            "binding": "org",
            "preset": "full",
            "expires_in": "",
            "allowed_ips": "not-an-ip",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "“not-an-ip” is not an IP address or CIDR range" in body
    assert 'aria-invalid="true"' in body
    assert not KEY_RE.search(body)
    assert not ApiKey.objects.filter(name="bad ips").exists()


def test_member_cannot_grant_more_than_they_have(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["member"])
    # "Full access" is what the member's role allows; a hand-made Limited POST asking for
    # more is refused by the service, on the resource it names.
    response = client.post(
        reverse("apikey_create"),
        {
            "name": "too much",
            "type": "standard",
            "binding": "org",
            "preset": "limited",
            "perm_audit": "write",
            "expires_in": "30",
        },
    )
    assert response.status_code == 400
    assert "Your role does not have audit:write" in response.content.decode()
    # Unbound is not even offered to a member; forcing it is refused by the form.
    response = client.post(
        reverse("apikey_create"), {"name": "unbound", "type": "standard", "binding": "unbound", "preset": "read_only"}
    )
    assert response.status_code == 400
    assert not ApiKey.objects.filter(name__in=["too much", "unbound"]).exists()


def test_tenant_max_lifetime_bounds_expiry(world: dict[str, Any], client_for: Any) -> None:
    tenant = world["tenant"]
    tenant.max_key_lifetime_days = 30
    tenant.save()
    client = client_for(world["owner"])
    page = client.get(reverse("apikey_create")).content.decode()
    assert "within 30 days" in page
    assert 'value="365"' not in page and "Never expires" not in page
    response = client.post(
        reverse("apikey_create"),
        {"name": "forever", "type": "standard", "binding": "org", "preset": "full", "expires_in": "365"},
    )
    assert response.status_code == 400
    assert not ApiKey.objects.filter(name="forever").exists()


def test_rotate_and_revoke_need_post_with_csrf(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    client = client_for(world["owner"], enforce_csrf=True)
    _select_csrf = client.get(reverse("apikey_rotate", args=[key.public_id]))
    # GET only shows the confirmation.
    assert _select_csrf.status_code == 200
    assert "Rotate" in _select_csrf.content.decode()
    assert client.get(reverse("apikey_revoke", args=[key.public_id])).status_code == 200
    old_digest = key.digest
    key.refresh_from_db()
    assert key.digest == old_digest and key.revoked_at is None
    # POST without the CSRF token is refused.
    assert (
        client.post(reverse("apikey_rotate", args=[key.public_id]), {"grace_period_seconds": "3600"}).status_code == 403
    )
    assert client.post(reverse("apikey_revoke", args=[key.public_id])).status_code == 403
    key.refresh_from_db()
    assert key.digest == old_digest and key.revoked_at is None
    # With the token: rotate shows the new key once, revoke is final.
    token = client.cookies["csrftoken"].value
    rotated = client.post(
        reverse("apikey_rotate", args=[key.public_id]), {"grace_period_seconds": "3600", "csrfmiddlewaretoken": token}
    )
    assert rotated.status_code == 200
    assert "no-store" in rotated["Cache-Control"]
    new_secret = KEY_RE.search(rotated.content.decode()).group(0)
    key.refresh_from_db()
    assert key.digest != old_digest and key.previous_digest == old_digest
    assert new_secret not in client.get(reverse("apikey_detail", args=[key.public_id])).content.decode()
    revoked = client.post(reverse("apikey_revoke", args=[key.public_id]), {"csrfmiddlewaretoken": token})
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoked", target_id=key.public_id, channel="ui").exists()


def test_deactivate_and_activate(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    client = client_for(world["owner"])
    assert client.post(reverse("apikey_deactivate", args=[key.public_id])).status_code == 302
    key.refresh_from_db()
    assert not key.is_active
    page = client.get(reverse("apikey_detail", args=[key.public_id])).content.decode()
    assert "Deactivated" in page and reverse("apikey_activate", args=[key.public_id]) in page
    assert client.post(reverse("apikey_activate", args=[key.public_id])).status_code == 302
    key.refresh_from_db()
    assert key.is_active


def test_key_list_filters(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    _select(client, world["org1"])
    from apikeys import services

    services.apikey_revoke(api_key=world["member_key"], actor=world["owner"])
    revoked = client.get(reverse("apikey_list"), {"status": "revoked"}).content.decode()
    assert "member key" in revoked and "owner key" not in revoked
    agents = client.get(reverse("apikey_list"), {"type": "agent"}).content.decode()
    assert "No keys match" in agents


def test_org_switcher_refuses_unreachable_org(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["viewer"])
    response = client.post(reverse("org_switch"), {"org": world["other_org"].public_id, "next": "/"})
    assert response.status_code == 404
    assert client.session.get("current_org_id") != world["other_org"].public_id
    # org2 is in the same tenant, but the viewer is only a member of org1.
    assert client.post(reverse("org_switch"), {"org": world["org2"].public_id}).status_code == 404
    # Opened in the browser, the address changes nothing and leads to the dashboard.
    assert client.get(reverse("org_switch")).status_code == 302
    assert client.session.get("current_org_id") != world["other_org"].public_id


def test_org_switcher_lists_reachable_orgs_and_switches(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    _select(client, world["org1"])
    page = client.get(reverse("dashboard")).content.decode()
    # A menu of switch buttons: the other reachable orgs, the current one marked as such.
    assert re.search(r'aria-current="true">Acme Org 1 <span class="muted">\(current\)', page)
    assert f'name="org" value="{world["org2"].public_id}"' in page
    assert world["other_org"].public_id not in page
    response = client.post(reverse("org_switch"), {"org": world["org2"].public_id, "next": reverse("apikey_list")})
    assert response.status_code == 302 and response["Location"] == reverse("apikey_list")
    assert client.session["current_org_id"] == world["org2"].public_id
    assert "<h1>Acme Org 2</h1>" in client.get(reverse("dashboard")).content.decode()
    # Leaving a key page of the previous org lands on the dashboard, and an off-site next is ignored.
    detail = reverse("apikey_detail", args=[world["owner_key"].public_id])
    assert client.post(reverse("org_switch"), {"org": world["org1"].public_id, "next": detail})["Location"] == "/"
    assert (
        client.post(reverse("org_switch"), {"org": world["org1"].public_id, "next": "https://evil.example/"})[
            "Location"
        ]
        == "/"
    )


def test_dashboard_counts_and_activity(world: dict[str, Any], client_for: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import make_key

    make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="soon",
        expires_at=timezone.now() + timedelta(days=3),
    )
    client = client_for(world["owner"])
    _select(client, world["org1"])
    response = client.get(reverse("dashboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'stat-value">3<.*Active API keys', body, re.S)
    assert re.search(r'stat-value">1<.*Expiring within 7 days', body, re.S)
    assert "api_key.created" in body  # recent activity for someone who may read the log
    viewer_page = client_for(world["viewer"]).get(reverse("dashboard")).content.decode()
    assert "Recent activity" not in viewer_page


def test_members_page_invite_change_role_remove(world: dict[str, Any], client_for: Any) -> None:
    from tests.factories import UserFactory

    client = client_for(world["admin"])
    page = client.get(reverse("members"))
    assert page.status_code == 200
    assert world["viewer"].email in page.content.decode()
    newcomer = UserFactory(email="newcomer@example.com")
    response = client.post(reverse("members"), {"invite-email": newcomer.email, "invite-role": "member"})
    assert response.status_code == 302
    from orgs.models import OrgMembership

    assert OrgMembership.objects.get(organization=world["org1"], user=newcomer).role == "member"
    response = client.post(
        reverse("member_role", args=[newcomer.pk]), {f"m{newcomer.pk}-role": "viewer", f"m{newcomer.pk}-confirm": "on"}
    )
    assert response.status_code == 302
    assert OrgMembership.objects.get(organization=world["org1"], user=newcomer).role == "viewer"
    assert client.get(reverse("member_remove", args=[newcomer.pk])).status_code == 200
    assert client.post(reverse("member_remove", args=[newcomer.pk])).status_code == 302
    assert not OrgMembership.objects.filter(organization=world["org1"], user=newcomer).exists()
    # A viewer reads the list but cannot change it; another tenant's member is a 404.
    viewer = client_for(world["viewer"])
    assert viewer.get(reverse("members")).status_code == 200
    assert (
        viewer.post(reverse("members"), {"invite-email": "x@example.com", "invite-role": "viewer"}).status_code == 403
    )
    assert client.get(reverse("member_remove", args=[world["other_owner"].pk])).status_code == 404


def test_invite_errors_show_on_the_form(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["admin"])
    response = client.post(reverse("members"), {"invite-email": world["viewer"].email, "invite-role": "member"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()


def test_tenant_settings_owner_only(world: dict[str, Any], client_for: Any) -> None:
    assert client_for(world["admin"]).get(reverse("tenant_settings")).status_code == 403
    client = client_for(world["owner"])
    assert client.get(reverse("tenant_settings")).status_code == 200
    response = client.post(
        reverse("tenant_settings"),
        {
            "plan": "pro",
            "require_2fa": "on",
            "key_creation_policy": "admins",
            "token_exchange_policy": "owners",
            "max_key_lifetime_days": "90",
        },
    )
    assert response.status_code == 302
    tenant = world["tenant"]
    tenant.refresh_from_db()
    assert (tenant.plan, tenant.require_2fa, tenant.key_creation_policy, tenant.max_key_lifetime_days) == (
        "pro",
        True,
        "admins",
        90,
    )
    assert AuditEvent.objects.filter(action="tenant.updated", tenant_id=tenant.pk).exists()


def test_org_create_page(world: dict[str, Any], client_for: Any) -> None:
    assert client_for(world["member"]).get(reverse("org_create")).status_code == 403
    client = client_for(world["owner"])
    response = client.post(reverse("org_create"), {"name": "Branch office"})
    assert response.status_code == 302
    from orgs.models import Organization

    org = Organization.objects.get(name="Branch office")
    assert org.tenant_id == world["tenant"].pk
    assert client.session["current_org_id"] == org.public_id


def test_pages_have_titles_and_skip_link(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    for url in (
        reverse("dashboard"),
        reverse("apikey_list"),
        reverse("apikey_create"),
        reverse("members"),
        reverse("tenant_settings"),
        reverse("apikey_detail", args=[world["owner_key"].public_id]),
        reverse("apikey_edit", args=[world["owner_key"].public_id]),
    ):
        body = client.get(url).content.decode()
        assert re.search(r"<title>[^<]+ · Tater</title>", body), url
        assert 'href="#main"' in body and 'id="main"' in body
        assert "<script>" not in body and " style=" not in body  # the CSP forbids inline script/style


def test_resubmitting_the_create_form_issues_no_second_key(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    form = client.get(reverse("apikey_create")).content.decode()
    token = re.search(r'name="submit_token" value="([^"]+)"', form).group(1)
    data = {
        "submit_token": token,
        "name": "once",
        "type": "standard",
        "binding": "org",
        "preset": "full",
        "expires_in": "30",
    }
    first = client.post(reverse("apikey_create"), data)
    assert first.status_code == 200 and KEY_RE.search(first.content.decode())
    again = client.post(reverse("apikey_create"), data)  # what a browser reload does
    assert again.status_code == 302 and again["Location"] == reverse("apikey_list")
    assert ApiKey.objects.filter(name="once").count() == 1
    # Same for a rotation: a reload must not rotate the key a second time.
    api_key = ApiKey.objects.get(name="once")
    page = client.get(reverse("apikey_rotate", args=[api_key.public_id])).content.decode()
    token = re.search(r'name="submit_token" value="([^"]+)"', page).group(1)
    assert (
        client.post(
            reverse("apikey_rotate", args=[api_key.public_id]), {"submit_token": token, "grace_period_seconds": "0"}
        ).status_code
        == 200
    )
    api_key.refresh_from_db()
    digest = api_key.digest
    assert (
        client.post(
            reverse("apikey_rotate", args=[api_key.public_id]), {"submit_token": token, "grace_period_seconds": "0"}
        ).status_code
        == 302
    )
    api_key.refresh_from_db()
    assert api_key.digest == digest
