"""What authentication knows about an API key: one frozen record, loaded in one query.

``load(digest)`` reads the key whose current (or rotated-out) secret has that SHA-256
digest, with its tenant, org, owner and the owner's roles. ``KeyPrincipal`` is immutable
and holds nothing but those facts (and values computed from them); caching it, keeping it
current and counting its requests is ``apikeys.keycheck``'s job. ``to_json``/``from_json``
are how other processes share a verified principal through Redis (JSON, never pickle:
a shared store must not be able to run code in the app).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from django.db.models import Model

from orgs import policy, roles
from tater import scopes as S


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
    metadata_json: str = "{}"  # kept as text: a frozen principal holds nothing mutable
    # The key's current secret's digest: what its requests are counted and cached under,
    # whichever of its secrets (current or rotated-out, in its grace period) was presented.
    digest: str = ""
    usage_limit: int | None = None  # requests per refill period (apikeys.uses), None: unlimited
    usage_refill: str = ""

    @property
    def is_unbound(self) -> bool:
        return self.org is None

    # cached_property writes the instance __dict__ directly, which a frozen dataclass
    # allows: computed once per principal, not per request.
    @cached_property
    def role_scopes(self) -> frozenset[str]:
        """What the owner's current roles allow for this key's binding."""
        if not self.owner_active:
            return frozenset()
        if self.is_unbound:
            # Unbound keys are an owner privilege: they die with the owner role.
            return S.ALL_SCOPES if self.owner_tenant_role == roles.TenantRole.OWNER else frozenset()
        granted = roles.role_scopes(self.owner_tenant_role, self.owner_org_role)
        if self.type == "public":
            return granted & policy.PUBLIC_KEY_SCOPES  # business data only, whatever it carries
        return granted

    @cached_property
    def effective_scopes(self) -> frozenset[str]:
        granted = _effective(self.scopes, self.role_scopes)
        return granted - policy.ROTATED_OUT_WITHHELD if self.matched_previous else granted

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(json.loads(self.metadata_json))

    def ip_allowed(self, ip: str) -> bool:
        if not self.allowed_ips:
            return True
        return _ip_in(ip, self.allowed_ips)

    def to_json(self) -> str:
        """Every field, as JSON (datetimes as ISO 8601): see :func:`from_json`."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["org"] = dataclasses.astuple(self.org) if self.org else None
        fields["tenant_orgs"] = [dataclasses.astuple(o) for o in self.tenant_orgs]
        for name in _DATETIMES:
            value = fields[name]
            fields[name] = value.isoformat() if value is not None else None
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> KeyPrincipal:
        fields = json.loads(text)
        fields["org"] = OrgRef(*fields["org"]) if fields["org"] else None
        fields["tenant_orgs"] = tuple(OrgRef(*o) for o in fields["tenant_orgs"])
        for name in ("scopes", "allowed_ips"):
            fields[name] = tuple(fields[name])
        for name in _DATETIMES:
            value = fields[name]
            fields[name] = datetime.fromisoformat(value) if value is not None else None
        return cls(**fields)


_DATETIMES = ("expires_at", "revoked_at", "previous_expires_at")


@lru_cache(maxsize=4096)
def _effective(scopes: tuple[str, ...], role_scopes: frozenset[str]) -> frozenset[str]:
    return S.expand(scopes) & role_scopes


@lru_cache(maxsize=4096)
def sorted_scopes(scopes: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(scopes))


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


# --- Loading ---------------------------------------------------------------------------


# The models ``load`` reads: a change to any row of these can change a principal
# (``apikeys.keycheck`` invalidates on each; a test checks this list against the query).
def read_models() -> tuple[type[Model], ...]:
    from django.contrib.auth import get_user_model

    from apikeys.models import ApiKey
    from orgs.models import Organization, OrgMembership, Tenant, TenantMembership

    return (ApiKey, Tenant, Organization, get_user_model(), TenantMembership, OrgMembership)


def _load_sql() -> str:
    from django.db import connection

    return lookup_sql(connection.vendor)


@lru_cache(maxsize=4)
def lookup_sql(vendor: str) -> str:
    """The one statement of ``_load``, written once: the key (model columns, converted by
    the ORM) with its tenant, org, owner and the owner's roles as extra columns. Raw SQL
    rather than a queryset: compiling the equivalent queryset cost more than running it."""
    from django.contrib.auth import get_user_model

    from apikeys.models import ApiKey
    from orgs.models import Organization, OrgMembership, Tenant, TenantMembership

    User = get_user_model()  # noqa: N806

    def t(model: Any) -> str:
        return f'"{model._meta.db_table}"'

    key, tenant, org, user = t(ApiKey), t(Tenant), t(Organization), t(User)
    columns = ", ".join(f'k."{f.column}"' for f in ApiKey._meta.concrete_fields)
    # An unbound key reaches every org of its tenant: listed in the same statement (a JSON
    # array of [id, public_id, name]; empty/NULL for bound keys), so a cold lookup is one
    # query for every key.
    aggregate = "json_agg(json_build_array" if vendor == "postgresql" else "json_group_array(json_array"
    tenant_orgs = (
        f'(SELECT {aggregate}(o2."id", o2."public_id", o2."name")) FROM {org} o2 '  # noqa: S608  # nosec B608
        f'WHERE o2."tenant_id" = k."tenant_id" AND k."organization_id" IS NULL) AS x_tenant_orgs'
    )
    # Two index searches whatever the planner statistics (an OR of the two columns lets
    # SQLite pick a full scan once ANALYZE has run); one statement either way.
    # Table and column names come from the models; the values are parameters.
    return (
        f'SELECT {columns}, tn."public_id" AS x_tenant_public_id, tn."plan" AS x_tenant_plan, '  # noqa: S608  # nosec B608
        f'o."public_id" AS x_org_public_id, o."name" AS x_org_name, '
        f'u."email" AS x_owner_email, u."is_active" AS x_owner_active, '
        f'(SELECT m."role" FROM {t(TenantMembership)} m WHERE m."tenant_id" = k."tenant_id" AND m."user_id" = k."owner_id" LIMIT 1) AS x_tenant_role, '
        f'(SELECT m."role" FROM {t(OrgMembership)} m WHERE m."organization_id" = k."organization_id" AND m."user_id" = k."owner_id" LIMIT 1) AS x_org_role, '
        f"{tenant_orgs} "
        f'FROM {key} k JOIN {tenant} tn ON tn."id" = k."tenant_id" '
        f'LEFT JOIN {org} o ON o."id" = k."organization_id" JOIN {user} u ON u."id" = k."owner_id" '
        f'WHERE k."id" IN (SELECT "id" FROM {key} WHERE "digest" = %s '
        f'UNION ALL SELECT "id" FROM {key} WHERE "previous_digest" = %s)'
    )


def load(digest: str) -> KeyPrincipal | None:
    """One query: the key matching ``digest`` (current or rotated-out secret) with its
    tenant, org, owner and the owner's roles."""
    from apikeys.models import ApiKey

    rows = list(ApiKey.objects.raw(_load_sql(), (digest, digest)))  # noqa: S611  # nosec B611 - constant SQL, values bound
    if not rows:
        return None
    # Both columns are unique; a digest matching one key's current and another's
    # previous secret cannot happen in practice, but the current secret wins.
    row: Any = next((r for r in rows if r.digest == digest), rows[0])  # the model's fields and the x_ columns
    tenant_orgs: tuple[OrgRef, ...] = ()
    if row.organization_id is None:
        listed = row.x_tenant_orgs
        if isinstance(listed, (str, bytes)):
            listed = json.loads(listed)
        tenant_orgs = tuple(OrgRef(int(pk), public_id, name) for pk, public_id, name in sorted(listed or ()))
    org_pk = row.organization_id
    return KeyPrincipal(
        pk=row.pk,
        public_id=row.public_id,
        name=row.name,
        type=row.type,
        display_prefix=row.display_prefix,
        tenant_pk=row.tenant_id,
        tenant_public_id=row.x_tenant_public_id,
        tenant_plan=row.x_tenant_plan,
        org=OrgRef(org_pk, row.x_org_public_id, row.x_org_name) if org_pk is not None else None,
        tenant_orgs=tenant_orgs,
        owner_pk=row.owner_id,
        owner_email=row.x_owner_email,
        owner_active=bool(row.x_owner_active),
        owner_tenant_role=row.x_tenant_role,
        owner_org_role=row.x_org_role,
        scopes=tuple(row.scopes),
        expires_at=row.expires_at,
        is_active=row.is_active,
        revoked_at=row.revoked_at,
        allowed_ips=tuple(row.allowed_ips or ()),
        rate_limit=row.rate_limit,
        matched_previous=row.digest != digest,
        previous_expires_at=row.previous_expires_at,
        metadata_json=json.dumps(row.metadata or {}, separators=(",", ":")),
        digest=row.digest,
        usage_limit=row.usage_limit,
        usage_refill=row.usage_refill,
    )
