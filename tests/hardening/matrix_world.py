"""The population the access matrix works against, built from ``matrix_spec``'s tables.

Tenant A ("Acme", orgs A1 and A2) holds a user of every role (``matrix_spec.USERS``) and
every caller key of ``matrix_spec.CALLERS``; tenant B ("Globex", org B1) is the other
tenant. A scan lives in each org, a SCIM token in each tenant. Target keys are built per
cell (``target_key``) inside the cell's savepoint, so every cell starts from the same state.

Built with the factories and services only; no permission code is consulted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from apikeys import keygen
from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import services as org_services
from orgs.models import Organization, Tenant
from scans import services as scan_services
from scim import tokens as scim_tokens
from scim.models import ScimToken
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.hardening.matrix_spec import CALLERS, ORG_TENANT, USERS, KeyTarget

__all__ = ["MatrixWorld", "build_matrix_world", "target_key"]

TENANT_NAMES = {"A": "Acme", "B": "Globex"}
SERVICE_ROLE = {
    "tenant owner": "owner",
    "tenant admin": "admin",
    "org admin": "admin",
    "member": "member",
    "viewer": "viewer",
}
# Every target key starts with restrictions that can be both narrowed and widened.
TARGET_IPS = ["10.0.0.0/8", "127.0.0.0/8"]
TARGET_RATE = "100/min"
TARGET_LIFETIME = timedelta(days=30)


@dataclass
class MatrixWorld:
    tenants: dict[str, Tenant]
    orgs: dict[str, Organization]  # A1, A2, B1
    users: dict[str, Any]
    keys: dict[str, ApiKey]  # the callers' keys, by matrix_spec Caller.key
    raw: dict[str, str]
    scans: dict[str, Any]  # one per org
    scim_tokens: dict[str, ScimToken]  # one per tenant
    extra: dict[str, Any] = field(default_factory=dict)

    def org_label(self, org_pk: int | None) -> str | None:
        return next((label for label, org in self.orgs.items() if org.pk == org_pk), None)


def build_matrix_world() -> MatrixWorld:
    users: dict[str, Any] = {}
    tenants: dict[str, Tenant] = {}
    orgs: dict[str, Organization] = {}
    for tenant in ("A", "B"):
        owner_name = next(n for n, (t, role, _) in USERS.items() if t == tenant and role == "tenant owner")
        owner = UserFactory(email=f"{owner_name}@{TENANT_NAMES[tenant].lower()}.test")
        labels = sorted(label for label, t in ORG_TENANT.items() if t == tenant)
        tenants[tenant], owner, made = make_tenant(
            name=TENANT_NAMES[tenant], owner=owner, plan="enterprise", orgs=len(labels)
        )
        users[owner_name] = owner
        orgs.update(zip(labels, made, strict=True))
    for name, (tenant, tenant_role, org_roles) in USERS.items():
        if name in users:
            continue
        user = users[name] = UserFactory(email=f"{name}@{TENANT_NAMES[tenant].lower()}.test")
        if tenant_role:
            org_services.tenant_member_set(tenant=tenants[tenant], user=user, role=SERVICE_ROLE[tenant_role])
        for org, role in org_roles.items():
            add_member(orgs[org], SERVICE_ROLE[role], user)

    keys: dict[str, ApiKey] = {}
    raw: dict[str, str] = {}
    for caller in CALLERS:
        if not caller.is_key or caller.key in keys:
            continue
        user = users[caller.user]
        org = orgs[caller.binding] if caller.binding else None
        demote = caller.key == "member/*"
        if demote:  # created while an org admin, then demoted (effective = key ∩ current role)
            org_services.org_member_set(organization=org, user=user, role="admin")
        kwargs: dict[str, Any] = {}
        if caller.dead == "expired":
            kwargs["expires_at"] = timezone.now() + timedelta(minutes=5)
        api_key, secret = make_key(
            user=user,
            tenant=tenants[caller.tenant],
            org=org,
            name=f"matrix {caller.key}",
            key_type=caller.key_type,
            scopes=list(caller.scopes),
            **kwargs,
        )
        if demote:
            org_services.org_member_set(organization=org, user=user, role="member")
        if caller.dead == "revoked":
            key_services.apikey_revoke(api_key=api_key, actor=user)
        elif caller.dead == "expired":
            ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        elif caller.dead == "inactive":
            key_services.apikey_set_active(api_key=api_key, actor=user, active=False)
        keys[caller.key], raw[caller.key] = api_key, secret

    scans = {
        label: scan_services.scan_upload(
            organization=org,
            scanner="matrix",
            target=f"host.{label}",
            started_at=datetime(2026, 1, 1, tzinfo=UTC),
            findings=[{"title": "open port", "severity": "low"}],
        )
        for label, org in orgs.items()
    }
    scim: dict[str, ScimToken] = {}
    for label, tenant_obj in tenants.items():
        secret = scim_tokens.generate()
        scim[label] = ScimToken.objects.create(
            tenant=tenant_obj, name=f"matrix scim {label}", digest=secret.digest, display_prefix=secret.display_prefix
        )
    return MatrixWorld(tenants=tenants, orgs=orgs, users=users, keys=keys, raw=raw, scans=scans, scim_tokens=scim)


def target_key(
    w: MatrixWorld, target: KeyTarget, *, key_type: str = "standard", active: bool = True
) -> tuple[ApiKey, str]:
    """A fresh key as ``target`` describes, with restrictions that can move both ways; its secret."""
    owner = w.users[target.owner]
    org = w.orgs[target.org] if target.org else None
    tenant = org.tenant if org else w.tenants[USERS[target.owner][0]]
    secret = keygen.generate(key_type)
    api_key = ApiKey.objects.create(
        name="matrix target",
        type=key_type,
        tenant=tenant,
        organization=org,
        owner=owner,
        creator=owner,
        scopes=list(target.scopes),
        digest=secret.digest,
        display_prefix=secret.display_prefix,
        allowed_ips=list(TARGET_IPS),
        rate_limit=TARGET_RATE,
        is_active=active,
        expires_at=(timezone.now() + TARGET_LIFETIME).replace(microsecond=0),
    )
    return api_key, secret.key
