"""Server-side tests of the key edit page and of tenant roles on the members page
(Django test client): what is stored, what is audited, what is refused and how."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from apikeys import services as key_services
from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import TenantMembership
from tests.factories import make_key

pytestmark = pytest.mark.django_db

NO_PERMS = {"perm_organizations": "", "perm_members": "", "perm_keys": "", "perm_audit": "", "perm_scans": ""}


def _edit(client: Any, key: Any, **data: str) -> Any:
    return client.post(reverse("apikey_edit", args=[key.public_id]), data)


def _select_options(body: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Editing a key ------------------------------------------------------------------------


def test_edit_key_narrows_scopes_and_changes_settings(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]  # full access ("*")
    client = client_for(world["owner"])
    page = client.get(reverse("apikey_edit", args=[key.public_id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert _select_options(body, "perm_scans") == ["", "read", "write"]
    assert (
        reverse("apikey_edit", args=[key.public_id])
        in client.get(reverse("apikey_detail", args=[key.public_id])).content.decode()
    )

    response = _edit(
        client,
        key,
        name="  SIEM enrichment ",
        **{**NO_PERMS, "perm_scans": "read", "perm_audit": "read"},
        expires_in="30",
        allowed_ips="198.51.100.7\n2001:db8::/32",
        rate_limit="5/min",
    )
    assert response.status_code == 302 and response["Location"] == reverse("apikey_detail", args=[key.public_id])
    key.refresh_from_db()
    assert key.name == "SIEM enrichment"
    assert key.scopes == ["audit:read", "scans:read"]
    assert key.allowed_ips == ["198.51.100.7/32", "2001:db8::/32"]
    assert key.rate_limit == "5/min"
    assert timedelta(days=29) < key.expires_at - timezone.now() <= timedelta(days=30)

    event = AuditEvent.objects.get(action="api_key.updated", target_id=key.public_id)
    assert event.channel == "ui" and event.actor_user_id == world["owner"].pk
    assert event.changes["scopes"] == {"from": ["*"], "to": ["audit:read", "scans:read"]}
    assert event.changes["rate_limit"] == {"from": "", "to": "5/min"}
    detail = client.get(response["Location"]).content.decode()
    assert "Settings of “SIEM enrichment” saved." in detail and "5/min" in detail

    # Now only the narrowed levels are offered; a resource the key lost shows no select.
    body = client.get(reverse("apikey_edit", args=[key.public_id])).content.decode()
    assert _select_options(body, "perm_scans") == ["", "read"]
    assert '<select name="perm_keys"' not in body


def test_edit_refuses_widening_with_a_field_error(world: dict[str, Any], client_for: Any) -> None:
    key, _raw = make_key(
        user=world["owner"],
        tenant=world["tenant"],
        org=world["org1"],
        name="reader",
        scopes=["scans:read", "keys:read"],
    )
    # An org admin may narrow the owner's key but never widen it (SPEC §2a); a hand-made
    # POST (the page never offers it) asking for scans:write and members:read.
    client = client_for(world["admin"])
    response = _edit(
        client,
        key,
        name="reader",
        **{**NO_PERMS, "perm_scans": "write", "perm_keys": "read", "perm_members": "read"},
        expires_in="keep",
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["perm_scans"] == [
        "This key does not have scans:write. Permissions can only be narrowed: generate a new key for more access."
    ]
    assert "members:read" in form.errors["perm_members"][0]
    body = response.content.decode()
    assert 'aria-invalid="true"' in body and "Please correct the highlighted fields" in body
    key.refresh_from_db()
    assert key.scopes == ["keys:read", "scans:read"]
    assert not AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).exists()


def test_edit_errors_show_inline(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    client = client_for(world["owner"])
    base = {"name": key.name, **{k: "write" for k in NO_PERMS}, "expires_in": "keep"}
    response = _edit(client, key, **base, rate_limit="lots")
    assert response.status_code == 400
    assert response.context["form"].errors["rate_limit"] == [
        'Rate limit must look like "5/min", "1000/hour" or "5/60s"'
    ]
    assert re.search(r'<input type="text" name="rate_limit"[^>]*aria-invalid="true"', response.content.decode())
    response = _edit(client, key, **base, allowed_ips="10.0.0.300")
    assert response.status_code == 400
    assert response.context["form"].errors["allowed_ips"] == [
        "Line 1: “10.0.0.300” is not an IP address or CIDR range (e.g. 203.0.113.7 or 203.0.113.0/24)."
    ]
    response = _edit(client, key, **{**base, "name": " "})
    assert response.status_code == 400 and "name" in response.context["form"].errors
    # Dropping every permission leaves the key nothing: refused by the service.
    response = _edit(client, key, **{**base, **NO_PERMS})
    assert response.status_code == 400
    assert "At least one scope is required" in response.content.decode()
    key.refresh_from_db()
    assert key.scopes == ["*"] and key.rate_limit == "" and key.allowed_ips == []
    assert not AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).exists()


def test_edit_expiry_is_bounded_by_the_tenant_maximum(world: dict[str, Any], client_for: Any) -> None:
    tenant = world["tenant"]
    tenant.max_key_lifetime_days = 30
    tenant.save()
    key = world["owner_key"]  # created before the policy: never expires
    client = client_for(world["owner"])
    body = client.get(reverse("apikey_edit", args=[key.public_id])).content.decode()
    assert _select_options(body, "expires_in") == ["keep", "7", "30"]
    assert "within 30 days" in body
    base = {"name": key.name, **{k: "write" for k in NO_PERMS}}
    assert _edit(client, key, **base, expires_in="never").status_code == 400
    assert _edit(client, key, **base, expires_in="90").status_code == 400
    key.refresh_from_db()
    assert key.expires_at is None
    assert _edit(client, key, **base, expires_in="30").status_code == 302
    key.refresh_from_db()
    assert key.expires_at is not None and key.expires_at <= timezone.now() + timedelta(days=30)


def test_unchanged_edit_writes_no_audit_entry(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    client = client_for(world["owner"])
    response = _edit(client, key, name=key.name, **{k: "write" for k in NO_PERMS}, expires_in="keep")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.scopes == ["*"]  # an untouched form does not rewrite "*" as a list
    assert not AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).exists()


def test_revoked_key_cannot_be_edited(world: dict[str, Any], client_for: Any) -> None:
    key = world["owner_key"]
    key_services.apikey_revoke(api_key=key, actor=world["owner"])
    client = client_for(world["owner"])
    page = client.get(reverse("apikey_edit", args=[key.public_id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "A revoked key cannot be edited" in body and '<form method="post" class="form"' not in body
    assert (
        reverse("apikey_edit", args=[key.public_id])
        not in client.get(reverse("apikey_detail", args=[key.public_id])).content.decode()
    )
    response = _edit(client, key, name="revived", **{k: "write" for k in NO_PERMS}, expires_in="keep")
    assert response.status_code == 400
    key.refresh_from_db()
    assert key.name == "owner key"
    assert not AuditEvent.objects.filter(action="api_key.updated", target_id=key.public_id).exists()


def test_an_admin_narrows_another_persons_key_but_never_renames_it(world: dict[str, Any], client_for: Any) -> None:
    """SPEC §2a: admins may deactivate, revoke and narrow another person's key; its name is
    its owner's (a decision, docs/authorization.md). The name field is shown disabled, a
    hand-made POST's name is not taken, the narrowing is."""
    key = world["member_key"]
    client = client_for(world["admin"])
    page = client.get(reverse("apikey_edit", args=[key.public_id])).content.decode()
    assert re.search(r'<input[^>]*name="name"[^>]*disabled', page), "the name field is not disabled"
    assert "Only the key&#x27;s owner can rename it." in page
    response = _edit(client, key, name="renamed by admin", **{**NO_PERMS, "perm_scans": "write"}, expires_in="keep")
    assert response.status_code == 302, response.content[:500]
    key.refresh_from_db()
    assert key.name == "member key" and key.scopes == ["scans:write"]
    # The owner renames it.
    owner = client_for(world["member"])
    assert _edit(owner, key, name="mine", **{**NO_PERMS, "perm_scans": "write"}, expires_in="keep").status_code == 302
    key.refresh_from_db()
    assert key.name == "mine"


def test_edit_page_permissions(world: dict[str, Any], client_for: Any) -> None:
    data = {"name": "x", **NO_PERMS, "perm_scans": "read", "expires_in": "keep"}
    viewer = client_for(world["viewer"])
    assert viewer.get(reverse("apikey_edit", args=[world["owner_key"].public_id])).status_code == 403
    assert _edit(viewer, world["owner_key"], **data).status_code == 403
    member = client_for(world["member"])  # members reach only their own keys
    assert member.get(reverse("apikey_edit", args=[world["owner_key"].public_id])).status_code == 404
    assert member.get(reverse("apikey_edit", args=[world["member_key"].public_id])).status_code == 200
    owner = client_for(world["owner"])
    assert _edit(owner, world["other_key"], **data).status_code == 404
    world["other_key"].refresh_from_db()
    assert world["other_key"].name == "globex key"


# --- Tenant roles on the members page ------------------------------------------------------


def _tenant_role(world: dict[str, Any], user: Any) -> str | None:
    return TenantMembership.objects.filter(tenant=world["tenant"], user=user).values_list("role", flat=True).first()


def _set_tenant_role(client: Any, user: Any, role: str) -> Any:
    """A tenant-role change, confirmed (a demotion asks first: tests/ui/test_members_ux.py)."""
    data = {f"t{user.pk}-tenant_role": role, f"t{user.pk}-confirm": "on"}
    return client.post(reverse("member_tenant_role", args=[user.pk]), data, follow=True)


def test_owner_changes_tenant_roles(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    target = world["admin"]  # org admin of org1, no tenant role
    page = client.get(reverse("members")).content.decode()
    assert _select_options(page, f"t{target.pk}-tenant_role") == ["none", "admin", "owner"]

    response = _set_tenant_role(client, target, "admin")
    assert response.redirect_chain[-1][0] == reverse("members")
    assert _tenant_role(world, target) == "admin"
    assert f"{target.email} is now tenant admin" in " ".join(_messages(response))
    added = AuditEvent.objects.get(action="member.added", target_id=target.public_id, changes__tenant_role__to="admin")
    assert added.channel == "ui" and added.actor_user_id == world["owner"].pk

    assert _set_tenant_role(client, target, "owner").status_code == 200
    assert _tenant_role(world, target) == "owner"
    response = _set_tenant_role(client, target, "none")
    assert _tenant_role(world, target) is None
    assert "they stay admin of this organization" in " ".join(_messages(response))
    assert AuditEvent.objects.filter(action="member.removed", target_id=target.public_id, channel="ui").exists()


def test_last_owner_cannot_be_demoted(world: dict[str, Any], client_for: Any) -> None:
    owner = world["owner"]
    client = client_for(owner)
    for role in ("admin", "none"):
        response = _set_tenant_role(client, owner, role)
        assert response.status_code == 400  # the members page again, the choice kept (review s35)
        assert _tenant_role(world, owner) == "owner"
        assert "The last owner of a tenant cannot be removed or demoted." in response.content.decode()
    # With a second owner the first may step down.
    _set_tenant_role(client, world["admin"], "owner")
    _set_tenant_role(client, owner, "admin")
    assert _tenant_role(world, owner) == "admin"


def test_tenant_admin_cannot_grant_owner_or_demote_an_owner(world: dict[str, Any], client_for: Any) -> None:
    tenant_admin = world["admin"]
    org_services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role="admin")
    client = client_for(tenant_admin)
    page = client.get(reverse("members")).content.decode()
    member = world["member"]
    # Owner is not offered, and the owner's row has no tenant-role form at all.
    assert _select_options(page, f"t{member.pk}-tenant_role") == ["none", "admin"]
    assert f'name="t{world["owner"].pk}-tenant_role"' not in page

    response = _set_tenant_role(client, member, "owner")  # a hand-made POST
    assert _tenant_role(world, member) is None
    assert "You cannot grant the role 'owner': it is above your own." in html.unescape(response.content.decode())
    response = _set_tenant_role(client, world["owner"], "admin")
    assert _tenant_role(world, world["owner"]) == "owner"
    assert "You cannot change a member whose role is above yours." in response.content.decode()
    assert not AuditEvent.objects.filter(changes__tenant_role__to="owner").exists()


def test_without_a_tenant_role_tenant_roles_are_refused(world: dict[str, Any], client_for: Any) -> None:
    org_admin = client_for(world["admin"])  # manages org members, but holds no tenant role
    page = org_admin.get(reverse("members")).content.decode()
    assert "-tenant_role" not in page
    response = org_admin.post(
        reverse("member_tenant_role", args=[world["member"].pk]), {f"t{world['member'].pk}-tenant_role": "admin"}
    )
    assert response.status_code == 403
    assert (
        client_for(world["viewer"])
        .post(reverse("member_tenant_role", args=[world["viewer"].pk]), {f"t{world['viewer'].pk}-tenant_role": "owner"})
        .status_code
        == 403
    )
    assert _tenant_role(world, world["member"]) is None and _tenant_role(world, world["viewer"]) is None
    # Someone of another tenant is not on this members page: 404.
    owner = client_for(world["owner"])
    other = world["other_owner"]
    assert _set_tenant_role(owner, other, "admin").status_code == 404
