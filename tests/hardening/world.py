"""The population every hardening test works against.

Tenant A ("Acme", two orgs: ``org1`` where everyone works and its sibling ``org2``) has a
user of every role and a key of every kind; tenant B ("Globex") is the foreign tenant.
Objects that endpoints address by id are created per org so each test can aim at the
caller's own org, the sibling org and the other tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import services as org_services
from orgs.models import Organization, Tenant
from tests.factories import PASSWORD, UserFactory, add_member, make_key, make_tenant

__all__ = ["PASSWORD", "World", "build_world"]


@dataclass
class World:
    tenant: Tenant
    org1: Organization
    org2: Organization
    other_tenant: Tenant
    other_org: Organization
    users: dict[str, Any]
    keys: dict[str, ApiKey]
    raw: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def org(self, where: str) -> Organization:
        return {"own": self.org1, "sibling": self.org2, "foreign": self.other_org}[where]

    def tenant_of(self, where: str) -> Tenant:
        return self.other_tenant if where == "foreign" else self.tenant


def build_world() -> World:
    owner = UserFactory(email="owner@acme.test")
    tenant, owner, (org1, org2) = make_tenant(name="Acme", owner=owner, plan="enterprise", orgs=2)
    tenant_admin = UserFactory(email="tadmin@acme.test")
    org_services.tenant_member_set(tenant=tenant, user=tenant_admin, role="admin")
    org_admin = add_member(org1, "admin", UserFactory(email="oadmin@acme.test"))
    member = add_member(org1, "member", UserFactory(email="member@acme.test"))
    viewer = add_member(org1, "viewer", UserFactory(email="viewer@acme.test"))
    sibling_member = add_member(org2, "member", UserFactory(email="sibling@acme.test"))
    other_owner = UserFactory(email="owner@globex.test")
    other_tenant, other_owner, (other_org,) = make_tenant(name="Globex", owner=other_owner, plan="enterprise", orgs=1)
    other_member = add_member(other_org, "member", UserFactory(email="member@globex.test"))

    keys: dict[str, ApiKey] = {}
    raw: dict[str, str] = {}

    def key(name: str, **kwargs: Any) -> ApiKey:
        kwargs.setdefault("user", owner)
        kwargs.setdefault("tenant", tenant)
        kwargs.setdefault("org", org1)
        api_key, secret = make_key(name=f"matrix {name}", **kwargs)
        keys[name], raw[name] = api_key, secret
        return api_key

    key("full", scopes=["*"])
    key("unbound", org=None, scopes=["*"])
    key("read", scopes=["*:read"])
    key("limited", scopes=["scans:read"])
    key("agent", key_type="agent", scopes=["scans:write"])
    key("public", key_type="public", scopes=["*:read"])
    # Created while the member was an org admin, then demoted: the key keeps "*" but may
    # only use what a member may do now (effective = key scopes ∩ current role).
    org_services.org_member_set(organization=org1, user=member, role="admin")
    key("member", user=member, scopes=["*"])
    org_services.org_member_set(organization=org1, user=member, role="member")
    key("foreign", user=other_owner, tenant=other_tenant, org=other_org, scopes=["*"])
    revoked = key("revoked", scopes=["*"])
    key_services.apikey_revoke(api_key=revoked, actor=owner)
    expired = key("expired", scopes=["*"], expires_at=timezone.now() + timedelta(minutes=5))
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    inactive = key("inactive", scopes=["*"])
    key_services.apikey_set_active(api_key=inactive, actor=owner, active=False)

    users = {
        "owner": owner,
        "tenant_admin": tenant_admin,
        "org_admin": org_admin,
        "member": member,
        "viewer": viewer,
        "sibling_member": sibling_member,
        "other_owner": other_owner,
        "other_member": other_member,
    }
    return World(
        tenant=tenant,
        org1=org1,
        org2=org2,
        other_tenant=other_tenant,
        other_org=other_org,
        users=users,
        keys=keys,
        raw=raw,
    )
