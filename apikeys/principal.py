"""The verified-key cache: what authentication needs about a key, in one entry.

An entry is keyed by the SHA-256 digest of the presented secret and loaded with one query
(key, tenant, org, owner and the owner's roles through subqueries). Where it lives depends
on the default cache (see ``kind_of``):

- **locmem** (the embedded default): a process-local memo *is* the cache (LocMemCache is
  per process anyway), so a warm lookup is two dict reads and no pickling. Each digest has
  a process-local generation, bumped by every invalidation; a memo entry is valid only
  under the generation it was loaded under, so a reader that loaded just before a commit
  cannot store a stale principal over the invalidation.
- **redis**: each digest has a generation counter in Redis (``apikey:gen:<digest>``), set
  to a fresh random value by every invalidation, before and again after commit. The
  process memo holds ``digest → (principal, generation seen)``; the request path checks
  the generation in the same Lua call that does the rate limiting
  (``tater.ratelimit.key_hit``), so a warm request costs one round trip and a change made
  by any worker is seen on the very next request by every worker. Shared-cache entries
  carry the generation they were loaded under and are only used under that generation.
- **other** backends: the shared cache, entries dropped by every invalidation.

Every invalidation (``forget_digests/forget_keys/forget_user/forget_tenant``) is strict: a
cache that cannot be reached fails the change (and its transaction), so a cache that comes
back can never resurrect a revoked key.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.signals import setting_changed
from django.db import transaction

from orgs import policy, roles
from tater import scopes as S

CACHE_PREFIX = "apikey:v2:"
GEN_PREFIX = "apikey:gen:"
CACHE_TTL = 300
MISSING_TTL = 30
# A generation key that expired (or was evicted) is recreated with a fresh random value,
# which no memo entry carries: those entries reload once. So a TTL is safe.
GEN_TTL = 24 * 3600
MISSING = "missing"
MEMO_MAX = 50_000


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
        return _effective(self.scopes, self.role_scopes)

    @cached_property
    def validate_body(self) -> dict[str, Any]:
        """``GET /auth/validate``'s answer but for ``permissions`` (which depend on the
        org the request resolved to): built once per principal."""
        return {
            "valid": True,
            "id": self.public_id,
            "type": self.type,
            "prefix": self.display_prefix,
            "name": self.name,
            "organization_id": self.org.public_id if self.org else None,
            "tenant_id": self.tenant_public_id,
            "binding": "unbound" if self.is_unbound else "organization",
            "scopes": list(self.scopes),
            "permissions": None,
            "expires_at": self.expires_at,
            "metadata": json.loads(self.metadata_json),
        }

    def ip_allowed(self, ip: str) -> bool:
        if not self.allowed_ips:
            return True
        return _ip_in(ip, self.allowed_ips)


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


def _load_sql() -> str:
    from django.db import connection

    return _load_sql_for(connection.vendor)


@lru_cache(maxsize=4)
def _load_sql_for(vendor: str) -> str:
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
        f"SELECT {columns}, tn.\"public_id\" AS x_tenant_public_id, tn.\"plan\" AS x_tenant_plan, "  # noqa: S608  # nosec B608
        f"o.\"public_id\" AS x_org_public_id, o.\"name\" AS x_org_name, "
        f"u.\"email\" AS x_owner_email, u.\"is_active\" AS x_owner_active, "
        f"(SELECT m.\"role\" FROM {t(TenantMembership)} m WHERE m.\"tenant_id\" = k.\"tenant_id\" AND m.\"user_id\" = k.\"owner_id\" LIMIT 1) AS x_tenant_role, "
        f"(SELECT m.\"role\" FROM {t(OrgMembership)} m WHERE m.\"organization_id\" = k.\"organization_id\" AND m.\"user_id\" = k.\"owner_id\" LIMIT 1) AS x_org_role, "
        f"{tenant_orgs} "
        f"FROM {key} k JOIN {tenant} tn ON tn.\"id\" = k.\"tenant_id\" "
        f"LEFT JOIN {org} o ON o.\"id\" = k.\"organization_id\" JOIN {user} u ON u.\"id\" = k.\"owner_id\" "
        f"WHERE k.\"id\" IN (SELECT \"id\" FROM {key} WHERE \"digest\" = %s "
        f"UNION ALL SELECT \"id\" FROM {key} WHERE \"previous_digest\" = %s)"
    )


def _load(digest: str) -> KeyPrincipal | None:
    """One query: the key matching ``digest`` (current or rotated-out secret) with its
    tenant, org, owner and the owner's roles."""
    from apikeys.models import ApiKey

    rows = list(ApiKey.objects.raw(_load_sql(), (digest, digest)))  # noqa: S611  # nosec B611 - constant SQL, values bound
    if not rows:
        return None
    # Both columns are unique; a digest matching one key's current and another's
    # previous secret cannot happen in practice, but the current secret wins.
    row = next((r for r in rows if r.digest == digest), rows[0])
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
    )


# --- Backend kinds ---------------------------------------------------------------------

_kinds: dict[type, str] = {}


def kind_of(backend: Any) -> str:
    """``locmem``, ``redis`` (django-redis) or ``other``; one dict read per call."""
    kind = _kinds.get(type(backend))
    if kind is None:
        if isinstance(backend, LocMemCache):
            kind = "locmem"
        elif type(backend).__module__.startswith("django_redis"):
            kind = "redis"
        else:
            kind = "other"
        _kinds[type(backend)] = kind
    return kind


_thread = threading.local()
_cache_generation = [0]  # bumped when CACHES changes: every thread looks the backend up again


def default_cache() -> tuple[Any, str]:
    """The default cache backend of this thread and its kind, looked up once per thread
    (``caches["default"]`` goes through asgiref's ``Local`` on every call)."""
    entry = getattr(_thread, "cache", None)
    if entry is None or entry[0] != _cache_generation[0]:
        backend = caches["default"]
        entry = _thread.cache = (_cache_generation[0], backend, kind_of(backend))
    return entry[1], entry[2]


def redis_client(backend: Any) -> Any:
    return backend.client.get_client(write=True)


def fails_soft(backend: Any) -> bool:
    """Whether the cache's reads fail soft (tater.faults.FailSoftRedisClient)."""
    from tater.faults import FailSoftRedisClient

    return isinstance(getattr(backend, "client", None), FailSoftRedisClient)


# --- The host-wide generation (locmem + SQLite file) -----------------------------------


class SharedGeneration:
    """One 8-byte counter in a memory-mapped file, shared by every process on the host
    that uses the same SQLite database: bumped (under a file lock) by every invalidation,
    read per request (an unpack from shared memory). With locmem each worker has its own
    memo; this is what tells the other workers that something changed."""

    def __init__(self, path: str) -> None:
        import mmap

        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(fd).st_size < 8:
            os.ftruncate(fd, 8)
        self.fd = fd
        self.map = mmap.mmap(fd, 8, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def read(self) -> int:
        return int(_unpack_from(self.map, 0)[0])

    def bump(self) -> None:
        import fcntl

        fcntl.lockf(self.fd, fcntl.LOCK_EX)
        try:
            struct.pack_into("<Q", self.map, 0, (self.read() + 1) % (1 << 64))
        finally:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)


_unpack_from = struct.Struct("<Q").unpack_from
_shared: list[SharedGeneration | None | bool] = [False]  # False: not looked up yet


def shared_generation() -> SharedGeneration | None:
    """The host-wide generation when the database is an SQLite file (else None: with an
    in-memory database there is only one process)."""
    current = _shared[0]
    if current is False:
        from django.conf import settings

        db = settings.DATABASES["default"]
        name = str(db.get("NAME") or "")
        current = None
        if db.get("ENGINE", "").endswith("sqlite3") and name and ":memory:" not in name and "mode=memory" not in name:
            try:
                current = SharedGeneration(name + ".keygen")
            except OSError:
                current = None
        _shared[0] = current
    return current  # type: ignore[return-value]


# --- The process memo ------------------------------------------------------------------

# digest → (principal or None for an unknown digest, generation tag, monotonic expiry)
_memo: dict[str, tuple[KeyPrincipal | None, Any, float]] = {}
# locmem only: digest → local generation, bumped by every invalidation in this process.
_local_gen: dict[str, int] = {}


def memo_get(digest: str) -> tuple[KeyPrincipal | None, Any] | None:
    entry = _memo.get(digest)
    if entry is None or entry[2] <= time.monotonic():
        return None
    return entry[0], entry[1]


def memo_put(digest: str, principal: KeyPrincipal | None, tag: Any) -> None:
    if len(_memo) >= MEMO_MAX:
        _memo.clear()  # a crude bound: everything reloads once (guessed digests fill it)
    _memo[digest] = (principal, tag, time.monotonic() + (CACHE_TTL if principal is not None else MISSING_TTL))


def reset_memo() -> None:
    """Forget this process's verified principals (tests; a cache configuration change)."""
    _memo.clear()
    _local_gen.clear()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        _cache_generation[0] += 1
        reset_memo()
    if setting == "DATABASES":
        reset_memo()
        _shared[0] = False


setting_changed.connect(_on_setting_changed, dispatch_uid="apikeys.principal.reset_memo")


def new_generation() -> int:
    return random.getrandbits(62)  # noqa: S311 - uniqueness, not secrecy


# --- Lookup ----------------------------------------------------------------------------


def principal_for_digest(digest: str) -> KeyPrincipal | None:
    """The current principal for ``digest`` (None if no key has it), with no stale window.

    The request path (``apikeys.authentication``) does the Redis generation check in the
    rate limiter's round trip instead; this is the standalone lookup."""
    backend = caches["default"]
    kind = kind_of(backend)
    if kind == "locmem":
        return locmem_lookup(digest)
    if kind == "redis":
        from tater import faults, ratelimit

        try:
            gen = ratelimit.key_generation(backend, digest)
        except Exception as exc:
            if faults.is_outage(exc) and fails_soft(backend):
                return _load(digest)  # nothing to validate a memo against: the database
            raise
        entry = memo_get(digest)
        if entry is not None and entry[1] == gen:
            return entry[0]
        return load_under(backend, digest, gen)
    cache_key = CACHE_PREFIX + digest
    cached = backend.get(cache_key)
    if cached is not None:
        return None if cached == MISSING else cached
    principal = _load(digest)
    # Unknown digests are cached briefly too, so guessing costs no query per attempt.
    backend.set(cache_key, principal if principal is not None else MISSING, CACHE_TTL if principal else MISSING_TTL)
    return principal


def locmem_lookup(digest: str) -> KeyPrincipal | None:
    """locmem: the memo under this digest's current generation, else the database. The
    generation is host-wide when the database is an SQLite file (any invalidation by any
    process reloads every memo once), else this process's own per digest."""
    shared = _shared[0]
    if shared is False:
        shared = shared_generation()
    gen = shared.read() if shared is not None else _local_gen.get(digest, 0)  # type: ignore[union-attr]
    entry = _memo.get(digest)
    if entry is not None and entry[1] == gen and entry[2] > time.monotonic():
        return entry[0]
    principal = _load(digest)
    memo_put(digest, principal, gen)  # tagged with the generation read *before* loading
    return principal


def load_under(backend: Any, digest: str, gen: Any) -> KeyPrincipal | None:
    """Redis: the principal as of generation ``gen`` (read before calling): the shared
    cache's entry when it was loaded under ``gen``, else the database; fills both."""
    cache_key = CACHE_PREFIX + digest
    cached = backend.get(cache_key)  # fail-soft: a miss during an outage
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == gen:
        principal = None if cached[1] == MISSING else cached[1]
    else:
        principal = _load(digest)
        backend.set(cache_key, (gen, principal if principal is not None else MISSING), CACHE_TTL if principal else MISSING_TTL)
    if principal is not None:  # guessed digests stay out of the memo
        memo_put(digest, principal, gen)
    return principal


# --- Invalidation ----------------------------------------------------------------------


def _invalidate(digests: list[str]) -> None:
    for d in digests:
        _memo.pop(d, None)
    backend = caches["default"]
    kind = kind_of(backend)
    if kind == "locmem":
        shared = shared_generation()
        if shared is not None:
            shared.bump()
            return
        if len(_local_gen) > MEMO_MAX:
            reset_memo()  # dropping generations is only safe together with the memo
        for d in digests:
            _local_gen[d] = _local_gen.get(d, 0) + 1
        return
    if kind == "redis":
        client = redis_client(backend)
        pipe = client.pipeline(transaction=False)
        for d in digests:
            pipe.set(backend.make_key(GEN_PREFIX + d), new_generation(), ex=GEN_TTL)
        pipe.delete(*[backend.make_key(CACHE_PREFIX + d) for d in digests])
        pipe.execute()  # strict: an outage fails the change
        return
    backend.delete_many([CACHE_PREFIX + d for d in digests])


def forget_digests(digests: Iterable[str | None]) -> None:
    """Invalidate the principals of these digests now and again after commit (a reader
    may load the old row just before the commit)."""
    keys = [d for d in digests if d]
    if not keys:
        return
    _invalidate(keys)
    transaction.on_commit(lambda: _invalidate(keys))


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
