"""The key pages as people meet them (Django test client): the create form offers only what
the chosen type can use and reports every problem at once; expiry badges and filters; search,
sort, row actions and bulk deactivate/revoke through the services."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import make_key

pytestmark = pytest.mark.django_db

AGENT_RE = re.compile(r"ak_[0-9a-f]{32}")
PUBLIC_RE = re.compile(r"ck_[0-9a-f]{32}")
STANDARD_RE = re.compile(r"tater_[0-9a-f]{32}")


def _options(body: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def _radios(body: str, name: str) -> list[str]:
    return re.findall(rf'<input type="radio" name="{name}" value="([^"]*)"', body)


def _create(client: Any, **data: str) -> Any:
    return client.post(reverse("apikey_create"), {"expires_in": "30", **data})


# --- 1. The create form -------------------------------------------------------------------------


def test_agent_form_offers_scan_upload_only_and_its_example_uploads(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    page = client.get(reverse("apikey_create"), {"type": "agent"}).content.decode()
    # No permission presets, no per-resource selects, no unbound binding: only scan upload.
    assert _radios(page, "preset") == [] and "perm_organizations" not in page and 'value="unbound"' not in page
    assert "Upload scans" in page and "scans:write" in page and "KEY_TYPE_NOT_ALLOWED" in page
    # A hand-made POST asking for more (organizations:write, unbound) still gets scans:write, org-bound.
    response = _create(
        client, type="agent", name="collector", binding="unbound", preset="full", perm_organizations="write"
    )
    assert response.status_code == 200, response.content.decode()[:3000]
    key = ApiKey.objects.get(name="collector")
    assert key.type == "agent" and key.scopes == ["scans:write"] and key.organization_id == world["org1"].pk
    body = response.content.decode()
    secret = AGENT_RE.search(body).group(0)
    # The ready-to-paste example is the upload, which admits agent keys.
    assert "/api/scans/upload" in body and "/api/v1/scans/" not in body
    from rest_framework.test import APIClient

    upload = APIClient().post(
        f"/api/scans/upload?organizationId={world['org1'].public_id}",
        {"scanner": "nmap", "target": "10.0.0.0/24", "started_at": "2026-01-15T09:30:00Z", "findings": []},
        format="json",
        HTTP_X_API_KEY=secret,
    )
    assert upload.status_code == 201, upload.content


def test_public_form_is_read_only_and_org_bound(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    page = client.get(reverse("apikey_create"), {"type": "public"}).content.decode()
    assert 'value="unbound"' not in page and _radios(page, "preset") == []
    # Only the resources public keys can read, and only "read".
    assert re.findall(r'<select name="(perm_[a-z]+)"', page) == ["perm_organizations", "perm_scans"]
    assert _options(page, "perm_scans") == ["", "read"]
    assert "never reach API keys, members or the Activity Log" in page
    response = _create(client, type="public", name="dashboard", binding="unbound", perm_scans="read")
    assert response.status_code == 200
    key = ApiKey.objects.get(name="dashboard")
    assert key.type == "public" and key.scopes == ["scans:read"] and key.organization_id == world["org1"].pk
    assert PUBLIC_RE.search(response.content.decode())
    # Write is not a choice for a public key, and nothing chosen is an error.
    refused = _create(client, type="public", name="writer", perm_scans="write")
    assert refused.status_code == 400 and "Public keys may carry read scopes only" in refused.content.decode()
    empty = _create(client, type="public", name="nothing")
    assert empty.status_code == 400 and "Choose at least one thing this public key may read" in empty.content.decode()
    assert not ApiKey.objects.filter(name__in=["writer", "nothing"]).exists()


def test_standard_form_explains_permissions_and_offers_unbound_to_owners(
    world: dict[str, Any], client_for: Any
) -> None:
    owner_page = client_for(world["owner"]).get(reverse("apikey_create")).content.decode()
    assert _radios(owner_page, "binding") == ["org", "unbound"]
    assert _radios(owner_page, "preset") == ["full", "read_only", "limited"]
    assert "Also upload scans" in owner_page and "never their secrets" in owner_page
    assert _options(owner_page, "perm_audit") == ["", "read"]  # the log is append-only
    assert 'name="rate_limit"' in owner_page
    # A member: no unbound choice, and only the levels their role has.
    member_page = client_for(world["member"]).get(reverse("apikey_create")).content.decode()
    assert _radios(member_page, "binding") == [] and 'value="unbound"' not in member_page
    assert _options(member_page, "perm_members") == ["", "read"]
    assert _options(member_page, "perm_scans") == ["", "read", "write"]


def test_every_input_error_is_reported_at_once(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    before = ApiKey.objects.count()
    response = _create(
        client,
        type="standard",
        name="",
        binding="org",
        preset="full",
        allowed_ips="10.0.0.0/8\nnot-an-ip\n192.168.1.300",
        rate_limit="lots",
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "name" in errors and "rate_limit" in errors
    assert errors["allowed_ips"] == [
        "Line 2: “not-an-ip” is not an IP address or CIDR range (e.g. 203.0.113.7 or 203.0.113.0/24).",
        "Line 3: “192.168.1.300” is not an IP address or CIDR range (e.g. 203.0.113.7 or 203.0.113.0/24).",
    ]
    body = response.content.decode()
    # One summary at the top lists them all, each linking to its field.
    summary = re.search(r'<div class="form-errors".*?</div>', body, re.S).group(0)
    for anchor in ("#id_name", "#id_allowed_ips", "#id_rate_limit"):
        assert anchor in summary
    assert summary.count("<li>") == 4
    assert body.count('aria-invalid="true"') >= 3
    assert ApiKey.objects.count() == before


def test_rate_limit_is_set_at_creation(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    response = _create(client, type="standard", name="slow", binding="org", preset="read_only", rate_limit="10/min")
    assert response.status_code == 200
    key = ApiKey.objects.get(name="slow")
    assert key.rate_limit == "10/min" and key.scopes == ["*:read"]


def test_full_access_means_what_your_role_allows(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["member"])
    response = _create(client, type="standard", name="mine", binding="org", preset="full")
    assert response.status_code == 200
    key = ApiKey.objects.get(name="mine")
    # A member's role: read everything, write scans and their own keys.
    assert key.scopes == [
        "audit:read",
        "keys:write",
        "members:read",
        "organizations:read",
        "scans:write",
    ]
    # A hand-made Limited POST above the role is refused on the resource it names.
    refused = _create(client, type="standard", name="more", binding="org", preset="limited", perm_members="write")
    assert refused.status_code == 400
    assert "Your role does not have members:write" in " ".join(refused.context["form"].errors["perm_members"])


# --- 2. Expiry ------------------------------------------------------------------------------------


def _expiring_world(world: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    soon, _ = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="soon key",
        expires_at=now + timedelta(days=3),
    )
    later, _ = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="later key",
        expires_at=now + timedelta(days=60),
    )
    gone, _ = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="gone key",
        expires_at=now + timedelta(days=1),
    )
    ApiKey.objects.filter(pk=gone.pk).update(expires_at=now - timedelta(days=2))
    return {"soon": soon, "later": later, "gone": gone}


def test_expiry_badges_and_filters(world: dict[str, Any], client_for: Any) -> None:
    _expiring_world(world)
    client = client_for(world["owner"])
    listing = client.get(reverse("apikey_list")).content.decode()
    assert re.search(r"soon key.*?badge-expiry-soon\">Expires in [23] days", listing, re.S)
    assert "later key" in listing and listing.count("badge-expiry-soon") == 1
    expiring = client.get(reverse("apikey_list"), {"expiring": "7"}).content.decode()
    assert "soon key" in expiring and "later key" not in expiring and "gone key" not in expiring
    assert "owner key" not in expiring  # never expires
    expired = client.get(reverse("apikey_list"), {"status": "expired"}).content.decode()
    assert "gone key" in expired and "soon key" not in expired
    # The dashboard's card counts the soon one and links to that filter.
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert re.search(r'href="/keys/\?expiring=7"><span class="stat-value">1<', dashboard)


def test_key_page_warns_before_and_after_expiry(world: dict[str, Any], client_for: Any) -> None:
    keys = _expiring_world(world)
    client = client_for(world["owner"])
    soon = client.get(reverse("apikey_detail", args=[keys["soon"].public_id])).content.decode()
    assert "badge-expiry-soon" in soon and "This key expires on" in soon
    gone = client.get(reverse("apikey_detail", args=[keys["gone"].public_id])).content.decode()
    assert "401 KEY_EXPIRED" in gone


# --- 3. Search, sort, row actions, bulk ----------------------------------------------------------


def test_search_by_name_or_prefix_and_sort(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    zeta, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="Zeta sync")
    alpha, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="alpha export")
    by_name = client.get(reverse("apikey_list"), {"q": "zeta"}).content.decode()
    assert "Zeta sync" in by_name and "alpha export" not in by_name
    by_prefix = client.get(reverse("apikey_list"), {"q": alpha.display_prefix}).content.decode()
    assert "alpha export" in by_prefix and "Zeta sync" not in by_prefix
    names = re.findall(
        r'class="stack-title"><a href="[^"]+">([^<]+)</a>',
        client.get(reverse("apikey_list"), {"sort": "name"}).content.decode(),
    )
    assert names == sorted(names, key=str.lower)
    nothing = client.get(reverse("apikey_list"), {"q": "no such key"}).content.decode()
    assert "No keys match" in nothing and "Show all keys" in nothing


def test_row_actions_follow_the_policy(world: dict[str, Any], client_for: Any) -> None:
    admin_page = client_for(world["admin"]).get(reverse("apikey_list")).content.decode()
    owner_key = world["owner_key"]
    # An admin may edit, deactivate and revoke someone else's key, never rotate it.
    assert reverse("apikey_revoke", args=[owner_key.public_id]) in admin_page
    assert reverse("apikey_deactivate", args=[owner_key.public_id]) in admin_page
    assert reverse("apikey_rotate", args=[owner_key.public_id]) not in admin_page
    owner_page = client_for(world["owner"]).get(reverse("apikey_list")).content.decode()
    assert reverse("apikey_rotate", args=[owner_key.public_id]) in owner_page
    viewer_page = client_for(world["viewer"]).get(reverse("apikey_list")).content.decode()
    assert 'name="keys"' not in viewer_page and "/revoke/" not in viewer_page


def test_bulk_revoke_confirms_then_reports_each_key(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["admin"])
    owner_key, member_key, foreign = world["owner_key"], world["member_key"], world["other_key"]
    key_services.apikey_revoke(api_key=member_key, actor=world["owner"])
    ids = [owner_key.public_id, member_key.public_id, foreign.public_id]
    # The first POST only asks.
    confirm = client.post(reverse("apikey_bulk"), {"action": "deactivate", "keys": ids, "back": "/keys/?q=key"})
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Deactivate 2 keys?" in body and "globex key" not in body and "1 of the chosen keys" in body
    owner_key.refresh_from_db()
    assert owner_key.is_active
    # Confirmed: each key through the service, refusals reported with their reason.
    done = client.post(
        reverse("apikey_bulk"),
        {"action": "deactivate", "keys": ids, "confirm": "on", "back": "/keys/?q=key"},
        follow=True,
    )
    texts = [str(m) for m in done.context["messages"]]
    assert any(t.startswith("1 key deactivated: “owner key”") for t in texts), texts
    assert any("Not deactivated: “member key”: This key has been revoked" in t for t in texts), texts
    assert any("out of your reach" in t for t in texts), texts
    assert done.redirect_chain[-1][0] == "/keys/?q=key"
    owner_key.refresh_from_db()
    foreign.refresh_from_db()
    assert not owner_key.is_active and foreign.is_active
    assert AuditEvent.objects.filter(action="api_key.deactivated", target_id=owner_key.public_id, channel="ui").exists()
    # Revoke in bulk.
    client.post(reverse("apikey_bulk"), {"action": "revoke", "keys": [owner_key.public_id], "confirm": "on"})
    owner_key.refresh_from_db()
    assert owner_key.revoked_at is not None


def test_bulk_actions_need_keys_write_and_stay_in_reach(world: dict[str, Any], client_for: Any) -> None:
    ids = [world["owner_key"].public_id]
    assert (
        client_for(world["viewer"])
        .post(reverse("apikey_bulk"), {"action": "revoke", "keys": ids, "confirm": "on"})
        .status_code
        == 403
    )
    # A member reaches only their own keys: the owner's key is left out, untouched.
    response = client_for(world["member"]).post(
        reverse("apikey_bulk"), {"action": "revoke", "keys": ids, "confirm": "on"}, follow=True
    )
    assert any("out of your reach" in str(m) for m in response.context["messages"])
    world["owner_key"].refresh_from_db()
    assert world["owner_key"].revoked_at is None
    # An off-site "back" is ignored.
    off = client_for(world["owner"]).post(
        reverse("apikey_bulk"), {"action": "revoke", "keys": ids, "confirm": "on", "back": "https://evil.example/"}
    )
    assert off["Location"] == reverse("apikey_list")
    nothing = client_for(world["owner"]).post(reverse("apikey_bulk"), {"action": "revoke"}, follow=True)
    assert any("Tick at least one key" in str(m) for m in nothing.context["messages"])
