"""The verified-key cache: what authentication needs about a key, in one cache entry.

An entry is keyed by the SHA-256 digest of the presented secret, loaded with one query
(key, tenant, org, owner and the owner's roles through subqueries) and dropped by every
service that changes the key, its owner's memberships, the tenant or its orgs, so a
revocation or a role change takes effect on the very next request in every worker that
shares the cache.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from orgs import roles
from tater import scopes as S

CACHE_PREFIX = "apikey:v1:"
CACHE_TTL = 300
MISSING = "missing"


@dataclass(frozen=True)
class OrgRef:
    pk: int
    public_id: str
    name: str


@dataclass(frozen=True)
class KeyPrincipal:
    pk: int
    public_id: str
    name: str
    type: str
    display_prefix: str
    tenant_pk: int
    tenant_public_id: str
    tenant_plan: str
    org: OrgRef | None
    tenant_orgs: tuple[OrgRef, ...]  # only filled for unbound keys
    owner_pk: int
    owner_email: str
    owner_active: bool
    owner_tenant_role: str | None
    owner_org_role: str | None
    scopes: tuple[str, ...]
    expires_at: datetime | None
    is_active: bool
    revoked_at: datetime | None
    allowed_ips: tuple[str, ...]
    rate_limit: str
    matched_previous: bool
    previous_expires_at: datetime | None

    @property
    def is_unbound(self) -> bool:
        return self.org is None

    @property
    def role_scopes(self) -> frozenset[str]:
        """What the owner's current roles allow for this key's binding."""
        if not self.owner_active:
            return frozenset()
        if self.is_unbound:
            # Unbound keys are an owner privilege: they die with the owner role.
            return S.ALL_SCOPES if self.owner_tenant_role == roles.TenantRole.OWNER else frozenset()
        return roles.role_scopes(self.owner_tenant_role, self.owner_org_role)

    @property
    def effective_scopes(self) -> frozenset[str]:
        return _effective(self.scopes, self.role_scopes)

    def ip_allowed(self, ip: str) -> bool:
        if not self.allowed_ips:
            return True
        return _ip_in(ip, self.allowed_ips)


@lru_cache(maxsize=4096)
def _effective(scopes: tuple[str, ...], role_scopes: frozenset[str]) -> frozenset[str]:
    return S.expand(scopes) & role_scopes


@lru_cache(maxsize=1024)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def _ip_in(ip: str, cidrs: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in _networks(cidrs))


def _load(digest: str) -> KeyPrincipal | None:
    from apikeys.models import ApiKey
    from orgs.models import Organization, OrgMembership, TenantMembership

    tenant_role = TenantMembership.objects.filter(tenant=OuterRef("tenant_id"), user=OuterRef("owner_id")).values("role")[:1]
    org_role = OrgMembership.objects.filter(organization=OuterRef("organization_id"), user=OuterRef("owner_id")).values("role")[:1]
    row = (
        ApiKey.objects.filter(Q(digest=digest) | Q(previous_digest=digest))
        .select_related("tenant", "organization", "owner")
        .annotate(owner_tenant_role=Subquery(tenant_role), owner_org_role=Subquery(org_role))
        .first()
    )
    if row is None:
        return None
    tenant_orgs: tuple[OrgRef, ...] = ()
    if row.organization_id is None:
        tenant_orgs = tuple(
            OrgRef(o.pk, o.public_id, o.name)
            for o in Organization.objects.filter(tenant_id=row.tenant_id).order_by("pk").only("pk", "public_id", "name")
        )
    org = row.organization
    return KeyPrincipal(
        pk=row.pk,
        public_id=row.public_id,
        name=row.name,
        type=row.type,
        display_prefix=row.display_prefix,
        tenant_pk=row.tenant_id,
        tenant_public_id=row.tenant.public_id,
        tenant_plan=row.tenant.plan,
        org=OrgRef(org.pk, org.public_id, org.name) if org else None,
        tenant_orgs=tenant_orgs,
        owner_pk=row.owner_id,
        owner_email=row.owner.email,
        owner_active=row.owner.is_active,
        owner_tenant_role=row.owner_tenant_role,
        owner_org_role=row.owner_org_role,
        scopes=tuple(row.scopes),
        expires_at=row.expires_at,
        is_active=row.is_active,
        revoked_at=row.revoked_at,
        allowed_ips=tuple(row.allowed_ips or ()),
        rate_limit=row.rate_limit,
        matched_previous=row.digest != digest,
        previous_expires_at=row.previous_expires_at,
    )


def principal_for_digest(digest: str) -> KeyPrincipal | None:
    cache_key = CACHE_PREFIX + digest
    cached = cache.get(cache_key)
    if cached is not None:
        return None if cached == MISSING else cached
    principal = _load(digest)
    # Unknown digests are cached briefly too, so guessing costs no query per attempt.
    cache.set(cache_key, principal if principal is not None else MISSING, CACHE_TTL if principal else 30)
    return principal


def forget_digests(digests: Iterable[str | None]) -> None:
    """Drop cached principals now and again after commit (a reader may race the commit)."""
    keys = [CACHE_PREFIX + d for d in digests if d]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def forget_keys(queryset: object) -> None:
    """Invalidate every key in a queryset of ApiKey."""
    rows = list(queryset.values_list("digest", "previous_digest"))  # type: ignore[attr-defined]
    forget_digests(d for pair in rows for d in pair)


def forget_user(user_id: int, tenant_id: int | None = None) -> None:
    """After a membership or user change: the user's keys re-read their roles."""
    from apikeys.models import ApiKey

    qs = ApiKey.objects.filter(owner_id=user_id)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    forget_keys(qs)


def forget_tenant(tenant_id: int) -> None:
    """After a tenant or org change (plan, orgs added): every key of the tenant."""
    from apikeys.models import ApiKey

    forget_keys(ApiKey.objects.filter(tenant_id=tenant_id))
