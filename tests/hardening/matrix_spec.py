"""What the SPEC says every caller may do to every target: the access matrix's expectations.

Written from SPEC §1 (roles), §2 (keys, scopes, types), §2a (who may act on which key), §3
(error catalog), §4 (org resolution) and §5 (endpoints), with the lead's precise §2a rules.
Nothing here is imported from the application (no permission class, no policy module, no
role map, no view attribute): when the code and this file disagree, the matrix fails.

The tables, in reading order:
- ``USERS``: who holds which role where (the world of ``world.py``);
- ``ROLE_PERMS``: what each role may do (SPEC §1);
- ``CALLERS``: the credentials that call (sessions, keys of each kind and owner, hints);
- ``OPS``: every operation: endpoint, method, scope, admitted key types, org resolution;
- ``REACH``: which target keys each caller reaches (SPEC §2a "A key's reach", "Admins");
- ``ACTIONS``: what may be done to a key one reaches, by its owner or by an admin.
``expect(caller, op, relation)`` reads them in the order the catalog implies:
authentication (401) → key type (403 KEY_TYPE_NOT_ALLOWED) → org resolution (403
WORKSPACE_ACCESS_DENIED / 400 AMBIGUOUS_ORG / 401 unbound) → scope (403 PERMISSION_DENIED)
→ object reach (404 NOT_FOUND) → the rule for the action (403 PERMISSION_DENIED) → body (400).

Where the SPEC is silent or ambiguous, the choice a careful GitHub/Stripe user would expect
is made and marked ``AMBIGUOUS`` (in a comment and in the outcome's ``note``, so the report
lists those cells).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# --- SPEC §1–§2: scopes and roles ------------------------------------------------------
RESOURCES = ("organizations", "members", "keys", "audit", "scans")
ALL = frozenset(f"{r}:{a}" for r in RESOURCES for a in ("read", "write"))
READ = frozenset(f"{r}:read" for r in RESOURCES)

ROLE_PERMS: dict[str, frozenset[str]] = {
    "tenant owner": ALL,
    "tenant admin": ALL,
    "org admin": ALL,  # members, keys, settings, audit
    "member": READ | {"scans:write", "keys:write"},  # read, write business data, own keys
    "viewer": READ - {"audit:read"},  # read only, no audit log
}
# Nobody grants a role above their own or changes someone who ranks above them.
RANK = {"viewer": 1, "member": 2, "org admin": 3, "tenant admin": 4, "tenant owner": 5}
# Public keys read business data only (SPEC §2a): no keys, members or audit log.
PUBLIC_CAP = frozenset({"scans:read", "organizations:read"})


def expand(specs: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Scope specs → permissions: ``*``, ``*:read``, write implies read (SPEC §2)."""
    out: set[str] = set()
    for spec in specs:
        if spec == "*":
            out |= ALL
        elif spec == "*:read":
            out |= READ
        else:
            out.add(spec)
            resource, action = spec.split(":")
            if action == "write":
                out.add(f"{resource}:read")
    return frozenset(out)


# --- The world (built by world.py exactly so) -------------------------------------------
# Tenant A has orgs A1 (where everyone works) and A2 (its sibling); tenant B is the other
# tenant with one org, B1.
ORG_TENANT = {"A1": "A", "A2": "A", "B1": "B"}
HOME_ORG = {"A": "A1", "B": "B1"}  # the org a session's org switcher points at

# user: (tenant, tenant role, {org: org role})
USERS: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "owner": ("A", "tenant owner", {}),
    "tenant-admin": ("A", "tenant admin", {}),
    "org-admin": ("A", None, {"A1": "org admin"}),
    "member": ("A", None, {"A1": "member"}),
    "peer": ("A", None, {"A1": "member"}),  # another member of A1: owns the "peer" key
    "viewer": ("A", None, {"A1": "viewer"}),
    "sibling-member": ("A", None, {"A2": "member"}),
    "outsider": ("B", "tenant owner", {}),  # the other tenant's owner
    "outsider-member": ("B", None, {"B1": "member"}),
    # Their roles now; the surface matrix (surface_matrix.build_surface_world) gives each a key under an earlier
    # role or state: removed from A1 (no role left), demoted from tenant owner, account
    # deactivated (its role kept).
    "departed": ("A", None, {}),
    "ex-owner": ("A", "tenant admin", {}),
    "deactivated": ("A", None, {"A1": "member"}),
}


def roles_in(user: str, org: str) -> list[str]:
    tenant, tenant_role, org_roles = USERS[user]
    if ORG_TENANT[org] != tenant:
        return []
    return [r for r in (tenant_role, org_roles.get(org)) if r]


def perms_in(user: str, org: str) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for role in roles_in(user, org):
        out |= ROLE_PERMS[role]
    return out


def rank_in(user: str, org: str) -> int:
    return max((RANK[r] for r in roles_in(user, org)), default=0)


def administers(user: str, org: str) -> bool:
    return bool({"tenant owner", "tenant admin", "org admin"} & set(roles_in(user, org)))


def is_tenant_owner(user: str) -> bool:
    return USERS[user][1] == "tenant owner"


def tenant_of(user: str) -> str:
    return USERS[user][0]


# --- Callers -----------------------------------------------------------------------------
# Operation groups (a caller may run only some of them, see Caller.only).
KEY, KEYS_LIST, KEYS_CREATE, ORGS, ORG_PATH, SCANS, UPLOAD, AUDIT, IDENTITY, SCIM = (
    "key",
    "keys-list",
    "keys-create",
    "orgs",
    "org-path",
    "scans",
    "upload",
    "audit",
    "identity",
    "scim-tokens",
)
GROUPS = frozenset({KEY, KEYS_LIST, KEYS_CREATE, ORGS, ORG_PATH, SCANS, UPLOAD, AUDIT, IDENTITY, SCIM})
RESOLVED = frozenset({KEY, KEYS_LIST, KEYS_CREATE, SCANS, UPLOAD, AUDIT})  # the org comes from SPEC §4


@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # anonymous | session | key
    user: str = "owner"  # the session's user or the key's owner (anonymous: targets built as for the owner)
    key: str = ""  # world key name (keys only)
    scopes: tuple[str, ...] = ()
    key_type: str = "standard"
    binding: str | None = None  # the key's org; None: unbound (tenant-wide)
    dead: str = ""  # revoked | expired | inactive
    hint: str = ""  # organizationId (X-Workspace-ID when hint_header)
    hint_header: bool = False
    tenant_hint: str = ""  # tenantId names this tenant
    only: frozenset[str] = GROUPS  # the operation groups this caller runs
    one_target: bool = False  # refused before any object is looked up: one target per operation

    @property
    def tenant(self) -> str:
        return tenant_of(self.user)

    @property
    def is_key(self) -> bool:
        return self.kind == "key"

    @property
    def unbound(self) -> bool:
        return self.is_key and self.binding is None

    def may_pick(self, org: str) -> bool:
        """SPEC §4: can this caller name ``org`` as its org hint?"""
        if self.kind == "session":
            return bool(roles_in(self.user, org))
        if self.unbound:
            return ORG_TENANT[org] == self.tenant and is_tenant_owner(self.user)
        return org == self.binding

    def resolved_org(self) -> str | None:
        if self.kind == "session":
            return self.hint or HOME_ORG[self.tenant]
        if self.unbound:
            return self.hint or None
        return self.binding

    def perms(self, org: str | None) -> frozenset[str]:
        """Effective permissions in ``org`` (SPEC §2: key scopes ∩ the owner's current role)."""
        if self.kind == "session":
            return perms_in(self.user, org or HOME_ORG[self.tenant])
        if self.unbound:
            # Unbound keys are the tenant owner's: everything while the owner is one.
            return expand(self.scopes) if is_tenant_owner(self.user) else frozenset()
        assert self.binding is not None
        perms = expand(self.scopes) & perms_in(self.user, self.binding)
        return perms & PUBLIC_CAP if self.key_type == "public" else perms


S, K = "session", "key"
NO_CREATE = GROUPS - {KEYS_CREATE}

CALLERS: tuple[Caller, ...] = (
    Caller("anonymous", "anonymous", one_target=True),
    Caller("session:tenant-owner", S, "owner"),
    Caller("session:tenant-admin", S, "tenant-admin"),
    Caller("session:org-admin", S, "org-admin"),
    Caller("session:member", S, "member"),
    Caller("session:viewer", S, "viewer"),
    Caller("session:outsider", S, "outsider"),
    Caller("session:tenant-owner@A2", S, "owner", hint="A2", only=RESOLVED),
    Caller("session:member@A2", S, "member", hint="A2", only=RESOLVED, one_target=True),
    Caller("session:outsider@A1", S, "outsider", hint="A1", only=RESOLVED, one_target=True),
    Caller("key:owner/*", K, "owner", "owner/*", ("*",), binding="A1"),
    Caller("key:owner/*:read", K, "owner", "owner/*:read", ("*:read",), binding="A1"),
    Caller("key:owner/scans:read", K, "owner", "owner/scans:read", ("scans:read",), binding="A1"),
    Caller("key:owner/keys:write", K, "owner", "owner/keys:write", ("keys:write",), binding="A1"),
    Caller("key:org-admin/*", K, "org-admin", "org-admin/*", ("*",), binding="A1"),
    # Created while its owner was an org admin, then the owner was demoted to member: the key
    # keeps "*" but may do only what a member may (effective = key scopes ∩ current role).
    Caller("key:member/*", K, "member", "member/*", ("*",), binding="A1"),
    # Without a hint an unbound key has no org: creates are run with a hint (below).
    Caller("key:owner/unbound", K, "owner", "owner/unbound", ("*",), binding=None, only=NO_CREATE),
    Caller(
        "key:owner/unbound@A1",
        K,
        "owner",
        "owner/unbound",
        ("*",),
        binding=None,
        hint="A1",
        only=frozenset({KEYS_LIST, KEYS_CREATE, SCANS, UPLOAD, AUDIT}),
    ),
    Caller(
        "key:owner/unbound@B1",
        K,
        "owner",
        "owner/unbound",
        ("*",),
        binding=None,
        hint="B1",
        only=frozenset({KEYS_LIST, SCANS, AUDIT}),
        one_target=True,
    ),
    Caller("key:owner/agent", K, "owner", "owner/agent", ("scans:write",), "agent", binding="A1"),
    Caller("key:owner/public", K, "owner", "owner/public", ("*:read",), "public", binding="A1"),
    Caller("key:outsider/*", K, "outsider", "outsider/*", ("*",), binding="B1"),
    Caller(
        "key:owner/*@A2(header)",
        K,
        "owner",
        "owner/*",
        ("*",),
        binding="A1",
        hint="A2",
        hint_header=True,
        only=RESOLVED,
        one_target=True,
    ),
    Caller(
        "key:owner/*+tenantId=B",
        K,
        "owner",
        "owner/*",
        ("*",),
        binding="A1",
        tenant_hint="B",
        only=RESOLVED,
        one_target=True,
    ),
    Caller(
        "key:outsider/*@A1",
        K,
        "outsider",
        "outsider/*",
        ("*",),
        binding="B1",
        hint="A1",
        only=RESOLVED,
        one_target=True,
    ),
    Caller("key:revoked", K, "owner", "owner/revoked", ("*",), binding="A1", dead="revoked", one_target=True),
    Caller("key:expired", K, "owner", "owner/expired", ("*",), binding="A1", dead="expired", one_target=True),
    Caller("key:inactive", K, "owner", "owner/inactive", ("*",), binding="A1", dead="inactive", one_target=True),
)
CALLER = {c.name: c for c in CALLERS}


# --- Targets: what a relation names, relative to the caller --------------------------------
@dataclass(frozen=True)
class KeyTarget:
    owner: str
    org: str | None  # None: unbound
    scopes: tuple[str, ...]
    is_caller: bool = False  # "self": the calling key itself


BUSINESS = ("scans:read", "organizations:read")  # the scopes of most target keys

KEY_RELATIONS = (
    "self",
    "own",
    "own-full",
    "own-narrow",
    "own-A2",
    "own-unbound",
    "peer",
    "owner's",
    "sibling",
    "owner's-unbound",
    "other-tenant",
)


def _full_scopes(user: str, org: str) -> tuple[str, ...]:
    perms = perms_in(user, org)
    if perms == ALL:
        return ("*",)
    return ("*:read", *sorted(p for p in perms if p.endswith(":write")))


def key_target(caller: Caller, relation: str) -> KeyTarget | None:
    """The key a relation names for this caller; None where it does not exist."""
    p, tenant = caller.user, caller.tenant
    home = HOME_ORG[tenant]
    holds_keys = "keys:write" in perms_in(p, home)
    if relation == "self":
        return (
            KeyTarget(p, caller.binding, caller.scopes, is_caller=True) if caller.is_key and not caller.dead else None
        )
    if relation == "own":
        return KeyTarget(p, home, BUSINESS) if holds_keys else None
    if relation == "own-full":
        return KeyTarget(p, home, _full_scopes(p, home)) if holds_keys else None
    if relation == "own-narrow":  # within a keys:write key's reach
        return KeyTarget(p, home, ("keys:read",)) if caller.is_key and p == "owner" else None
    if relation == "own-A2":
        return KeyTarget(p, "A2", BUSINESS) if roles_in(p, "A2") and tenant == "A" and USERS[p][1] else None
    if relation == "own-unbound":
        return KeyTarget(p, None, BUSINESS) if is_tenant_owner(p) else None
    if relation == "peer":
        return KeyTarget("peer", "A1", BUSINESS) if tenant == "A" else None
    if relation == "owner's":
        return KeyTarget("owner", "A1", BUSINESS) if tenant == "A" and p != "owner" else None
    if relation == "sibling":
        return KeyTarget("sibling-member", "A2", BUSINESS) if tenant == "A" else None
    if relation == "owner's-unbound":
        return KeyTarget("owner", None, BUSINESS) if tenant == "A" and p != "owner" else None
    if relation == "other-tenant":
        return KeyTarget("outsider", "B1", BUSINESS) if tenant == "A" else KeyTarget("owner", "A1", BUSINESS)
    raise KeyError(relation)


ORG_RELATIONS = ("home", "sibling", "other-tenant")


def org_target(caller: Caller, relation: str) -> str | None:
    if relation == "home":
        return HOME_ORG[caller.tenant]
    if relation == "sibling":
        return "A2" if caller.tenant == "A" else None
    if relation == "other-tenant":
        return "B1" if caller.tenant == "A" else "A1"
    raise KeyError(relation)


# The member a relation names: (org, user).
HIGHER = {"tenant-admin": "owner", "org-admin": "tenant-admin", "member": "org-admin", "viewer": "member"}


def member_target(caller: Caller, relation: str) -> tuple[str, str] | None:
    tenant = caller.tenant
    if relation == "lower":  # someone every admin outranks
        return ("A1", "peer") if tenant == "A" else ("B1", "outsider-member")
    if relation == "higher":  # someone who ranks above the caller (its key's owner)
        return ("A1", HIGHER[caller.user]) if caller.user in HIGHER else None
    if relation == "sibling":
        return ("A2", "sibling-member") if tenant == "A" else None
    if relation == "other-tenant":
        return ("B1", "outsider-member") if tenant == "A" else ("A1", "peer")
    raise KeyError(relation)


# --- Operations ------------------------------------------------------------------------------
STANDARD = frozenset({"standard"})
READERS = frozenset({"standard", "public"})  # business-data reads (SPEC §2a public keys)
COLLECTORS = frozenset({"standard", "agent"})  # scan upload: agents may upload (SPEC §5)
EVERY_TYPE = frozenset({"standard", "agent", "public"})


@dataclass(frozen=True)
class Op:
    name: str
    endpoint: str  # URL name (or the route for an unnamed pattern)
    method: str
    group: str
    scope: str | None
    key_types: frozenset[str]
    relations: tuple[str | None, ...] = (None,)
    org_mode: str = "resolved"  # resolved (SPEC §4) | path (organizations/{id}/…) | none
    needs_org: bool = True  # an unbound key without hint gets 400 AMBIGUOUS_ORG
    unbound_writes: bool = False  # an unbound key may write here (else 401, SPEC §4)
    # The reach of this endpoint and method is probed by another operation (key.rename for
    # PATCH keys/{id}/): only reachable targets and the other tenant's are run here.
    reach_probed_by: str = ""

    @property
    def write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")


def _key_op(name: str, endpoint: str, method: str, reach_probed_by: str = "") -> Op:
    scope = "keys:read" if method == "GET" else "keys:write"
    # SPEC §2a: "An unbound key (tenant owner only) reaches all of its owner's keys": the
    # key endpoints address a key by id, so an unbound key needs no org hint and may write.
    return Op(
        name,
        endpoint,
        method,
        KEY,
        scope,
        STANDARD,
        KEY_RELATIONS,
        needs_org=False,
        unbound_writes=True,
        reach_probed_by=reach_probed_by,
    )


def _create(name: str) -> Op:
    # Through an API key only org-bound keys in the calling key's own org (SPEC §2a): an
    # unbound key has none, so SPEC §4's rule for writes applies (401), hint or not.
    return Op(name, "api-keys", "POST", KEYS_CREATE, "keys:write", STANDARD)


MEMBER_ORGS = ORG_RELATIONS
MEMBER_TARGETS = ("lower", "sibling", "other-tenant")
# Operations on an invitation of the org their path names (relation: an org relation).
INVITATION_OPS = ("invitation.resend", "invitation.revoke")
# organizations/{id}/… operations whose relation is the org's (the others': a member's).
ORG_TARGET_OPS = ("org.get", "org.rename", "members.list", "members.add", *INVITATION_OPS)

OPS: tuple[Op, ...] = (
    Op("validate", "api-auth-validate", "GET", IDENTITY, None, EVERY_TYPE, org_mode="none", needs_org=False),
    Op("me", "api-me", "GET", IDENTITY, None, COLLECTORS, org_mode="none", needs_org=False),
    Op("me/", "api/v1/me/", "GET", IDENTITY, None, COLLECTORS, org_mode="none", needs_org=False),
    # keys
    # AMBIGUOUS: an unbound key listing keys without a hint gets 400 AMBIGUOUS_ORG (SPEC §4 for
    # read endpoints), not every key of its owner.
    Op("keys.list", "api-keys", "GET", KEYS_LIST, "keys:read", STANDARD),
    _create("keys.create"),
    _create("keys.create-full"),
    _create("keys.create-default"),
    _create("keys.create-unbound"),
    _key_op("key.get", "api-key-detail", "GET"),
    _key_op("key.usage", "api-key-usage", "GET"),
    _key_op("key.rename", "api-key-detail", "PATCH"),
    _key_op("key.narrow", "api-key-detail", "PATCH", "key.rename"),
    _key_op("key.widen-scopes", "api-key-detail", "PATCH", "key.rename"),
    _key_op("key.drop-allowlist", "api-key-detail", "PATCH", "key.rename"),
    _key_op("key.remove-expiry", "api-key-detail", "PATCH", "key.rename"),
    _key_op("key.lift-rate-limit", "api-key-detail", "PATCH", "key.rename"),
    _key_op("key.unknown-field", "api-key-detail", "PATCH", "key.rename"),
    _key_op("key.rotate", "api-key-rotate", "POST"),
    _key_op("key.revoke", "api-key-revoke", "POST"),
    _key_op("key.deactivate", "api-key-deactivate", "POST"),
    _key_op("key.activate", "api-key-activate", "POST"),
    # organizations and members: organizations/{id}/… names the org (a 404 outside reach)
    Op("orgs.list", "api-organizations", "GET", ORGS, "organizations:read", READERS, org_mode="none", needs_org=False),
    Op(
        "orgs.create",
        "api-organizations",
        "POST",
        ORGS,
        "organizations:write",
        STANDARD,
        org_mode="none",
        needs_org=False,
        unbound_writes=True,
    ),
    Op("org.get", "api-organization-detail", "GET", ORG_PATH, "organizations:read", READERS, ORG_RELATIONS, "path"),
    Op(
        "org.rename",
        "api-organization-detail",
        "PATCH",
        ORG_PATH,
        "organizations:write",
        STANDARD,
        ORG_RELATIONS,
        "path",
    ),
    Op("members.list", "api-members", "GET", ORG_PATH, "members:read", STANDARD, MEMBER_ORGS, "path"),
    Op("members.add", "api-members", "POST", ORG_PATH, "members:write", STANDARD, MEMBER_ORGS, "path"),
    Op("member.get", "api-member-detail", "GET", ORG_PATH, "members:read", STANDARD, MEMBER_TARGETS, "path"),
    Op("member.change-role", "api-member-detail", "PATCH", ORG_PATH, "members:write", STANDARD, MEMBER_TARGETS, "path"),
    Op(
        "member.grant-tenant-admin",
        "api-member-detail",
        "PATCH",
        ORG_PATH,
        "members:write",
        STANDARD,
        ("lower",),
        "path",
    ),
    Op("member.grant-owner", "api-member-detail", "PATCH", ORG_PATH, "members:write", STANDARD, ("lower",), "path"),
    Op("member.change-higher", "api-member-detail", "PATCH", ORG_PATH, "members:write", STANDARD, ("higher",), "path"),
    Op("member.remove", "api-member-detail", "DELETE", ORG_PATH, "members:write", STANDARD, MEMBER_TARGETS, "path"),
    Op("member.remove-higher", "api-member-detail", "DELETE", ORG_PATH, "members:write", STANDARD, ("higher",), "path"),
    # A pending invitation (role viewer) of the path's org, resent or withdrawn (s46).
    Op("invitation.resend", "api-invitation-resend", "POST", ORG_PATH, "members:write", STANDARD, MEMBER_ORGS, "path"),
    Op(
        "invitation.revoke", "api-invitation-detail", "DELETE", ORG_PATH, "members:write", STANDARD, MEMBER_ORGS, "path"
    ),
    # business data and the audit log
    Op("scans.list", "api-scans", "GET", SCANS, "scans:read", READERS),
    Op("scan.get", "api-scan-detail", "GET", SCANS, "scans:read", READERS, ORG_RELATIONS),
    Op("scans.upload", "api-scans-upload", "POST", UPLOAD, "scans:write", COLLECTORS),
    Op("scans.upload-alias", "api-scans-upload-alias", "POST", UPLOAD, "scans:write", COLLECTORS),
    Op("audit.read", "api-audit-log", "GET", AUDIT, "audit:read", STANDARD),
    # SCIM tokens (SPEC §13): tenant-level, owner-managed, shown once. The SPEC names no
    # scope for them: the rule below decides.
    Op("scim-tokens.list", "api-scim-tokens", "GET", SCIM, None, STANDARD, org_mode="none", needs_org=False),
    Op(
        "scim-tokens.create",
        "api-scim-tokens",
        "POST",
        SCIM,
        None,
        STANDARD,
        org_mode="none",
        needs_org=False,
        unbound_writes=True,
    ),
    Op(
        "scim-token.revoke",
        "api-scim-token-revoke",
        "POST",
        SCIM,
        None,
        STANDARD,
        ("home", "other-tenant"),
        org_mode="none",
        needs_org=False,
        unbound_writes=True,
    ),
)
OP = {o.name: o for o in OPS}

# --- SPEC §2a: which target keys each caller reaches -------------------------------------
# Y reaches it; . does not (404 NOT_FOUND, never listed); - the relation does not exist for
# this caller (checked against key_target by a test). Rules, from the lead's §2a:
# - a session: its own keys in the resolved org, every key of that org if it administers it,
#   and (tenant owners only) the tenant's unbound keys;
# - an org-bound key: its owner's keys bound to its org whose scopes lie within its own
#   effective permissions — never other people's keys, even when its owner is an admin;
# - an unbound key: every key of its owner.
_REACH = """
                          self own own-full own-narrow own-A2 own-unbound peer owner's sibling owner's-unbound other-tenant
session:tenant-owner       -    Y     Y        -         .       Y        Y     -       .          -              .
session:tenant-owner@A2    -    .     .        -         Y       Y        .     -       Y          -              .
session:tenant-admin       -    Y     Y        -         .       -        Y     Y       .          .              .
session:org-admin          -    Y     Y        -         -       -        Y     Y       .          .              .
session:member             -    Y     Y        -         -       -        .     .       .          .              .
session:viewer             -    -     -        -         -       -        .     .       .          .              .
session:outsider           -    Y     Y        -         -       Y        -     -       -          -              .
key:owner/*                Y    Y     Y        Y         .       .        .     -       .          -              .
key:owner/*:read           Y    Y     .        Y         .       .        .     -       .          -              .
key:owner/scans:read       Y    .     .        .         .       .        .     -       .          -              .
key:owner/keys:write       Y    .     .        Y         .       .        .     -       .          -              .
key:org-admin/*            Y    Y     Y        -         -       -        .     .       .          .              .
key:member/*               .    Y     Y        -         -       -        .     .       .          .              .
key:owner/unbound          Y    Y     Y        Y         Y       Y        .     -       .          -              .
key:owner/agent            Y    Y     Y        Y         .       .        .     -       .          -              .
key:owner/public           .    Y     .        .         .       .        .     -       .          -              .
key:outsider/*             Y    Y     Y        -         -       .        -     -       -          -              .
"""
# key:member/* "self" is '.': the key carries "*" while its owner is a member now, so its
# own scopes do not lie within its effective permissions (the lead's rule read literally).
# The agent and public rows say what those keys would reach: their type is refused first.

# --- SPEC §2a: what may be done to a key one reaches -------------------------------------
# By the key's owner through a signed-in session, by its owner through an API key, by an
# admin of the key's org (a session: API keys never reach other people's keys).
# 200 allowed; 200+secret allowed and the new secret is in the body; 403 PERMISSION_DENIED;
# 400 VALIDATION_ERROR.
_ACTIONS = """
                       owner-session  owner-key   admin-session
key.get                 200            200         200
key.usage               200            200         200
key.rename              200            200         403
key.narrow              200            200         200
key.widen-scopes        200            403         403
key.drop-allowlist      200            403         403
key.remove-expiry       200            403         403
key.lift-rate-limit     200            403         403
key.unknown-field       400            400         400
key.rotate              200+secret     200+secret  403
key.revoke              200            200         200
key.deactivate          200            200         200
key.activate            200            403         403
"""
# Why: secrets go only to owners (rotation returns one); through an API key restrictions only
# tighten, so widening and reactivating need the owner's signed-in session; admins may list,
# view, deactivate, revoke and narrow another person's key, nothing more (no renaming, no
# reactivating: giving access back is a widening); unknown fields (is_active) are a 400,
# never ignored.


def _grid(text: str) -> dict[str, dict[str, str]]:
    lines = [line for line in text.strip("\n").splitlines() if line.strip()]
    header = lines[0].split()
    out: dict[str, dict[str, str]] = {}
    for line in lines[1:]:
        name, *cells = line.split()
        assert len(cells) == len(header), f"grid row {name!r} has {len(cells)} cells for {len(header)} columns"
        out[name] = dict(zip(header, cells, strict=True))
    return out


REACH = _grid(_REACH)
ACTIONS = _grid(_ACTIONS)


# --- Outcomes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    status: int
    code: str = ""  # the catalog error code (SPEC §3) for an error
    message: str = ""  # the exact catalog message where the SPEC fixes one
    message_has: str = ""  # a word the message must carry (AMBIGUOUS_ORG names organizationId)
    why: str = ""
    note: str = ""  # AMBIGUOUS: the choice made where the SPEC is silent
    secret: bool = False  # the body carries a new key secret (create/rotate, by the key's owner)
    scope: str = ""  # missing scope: details.required_permissions names it
    field_name: str = ""  # VALIDATION_ERROR names this field

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def ok(status: int = 200, why: str = "allowed", **kw: object) -> Outcome:
    return Outcome(status, why=why, **kw)  # type: ignore[arg-type]


def denied(why: str, **kw: object) -> Outcome:
    return Outcome(403, "PERMISSION_DENIED", why=why, **kw)  # type: ignore[arg-type]


NOT_FOUND = Outcome(404, "NOT_FOUND", why="outside the caller's reach (a foreign object is a 404)")
WRONG_TYPE = Outcome(403, "KEY_TYPE_NOT_ALLOWED", why="key type not admitted here")
NO_WORKSPACE = Outcome(403, "WORKSPACE_ACCESS_DENIED", why="org hint the caller cannot reach")
DEAD = {
    "revoked": Outcome(401, "KEY_REVOKED", "API key has been revoked", why="revoked key"),
    "expired": Outcome(401, "KEY_EXPIRED", "API key has expired", why="expired key"),
    "inactive": Outcome(401, "KEY_INACTIVE", "API key is deactivated", why="deactivated key"),
}


def expect(caller: Caller, op: Op, relation: str | None) -> Outcome:
    """The outcome the SPEC gives ``caller`` doing ``op`` to the target ``relation`` names."""
    if caller.kind == "anonymous":
        return Outcome(401, "UNAUTHORIZED", "Missing API key", why="no key, no session")
    if caller.dead:
        return DEAD[caller.dead]
    if op.name == "validate":
        if not caller.is_key:
            return Outcome(401, "UNAUTHORIZED", why="auth/validate validates a presented key; a session has none")
        return ok(why="validate admits every key type")
    if caller.is_key and caller.key_type not in op.key_types:
        return WRONG_TYPE
    if op.group == IDENTITY:
        note = ""
        if caller.key_type == "agent":
            note = "AMBIGUOUS: me admits agent keys (it only describes the caller's own credential)"
        return ok(note=note)

    # SPEC §4: which org the request acts in.
    org: str | None
    if op.org_mode == "resolved":
        if caller.tenant_hint and caller.tenant_hint != caller.tenant:
            return replace(NO_WORKSPACE, why="tenantId names another tenant")
        if caller.hint and not caller.may_pick(caller.hint):
            return NO_WORKSPACE
        if caller.unbound and op.write and not op.unbound_writes:
            return Outcome(
                401,
                "UNAUTHORIZED",
                "Unbound API key may not scope to a specific org",
                why="unbound key on a write endpoint (SPEC §4)",
            )
        org = caller.resolved_org()
        if org is None and op.needs_org:
            return Outcome(
                400,
                "AMBIGUOUS_ORG",
                message_has="organizationId",
                why="unbound key, two orgs, no hint",
                note="AMBIGUOUS: keys list by an unbound key needs a hint" if op.group == KEYS_LIST else "",
            )
    elif op.org_mode == "path":
        org = _path_org(caller, op, relation)
        if not _reaches_org(caller, org):
            return replace(NOT_FOUND, why="organization in the path outside the caller's reach")
    else:
        org = caller.binding if caller.is_key else HOME_ORG[caller.tenant]

    perms = caller.perms(org)
    if op.scope is not None and op.scope not in perms:
        return denied(f"lacks {op.scope}", scope=op.scope)
    return RULES[op.group](caller, op, relation, org)


def _path_org(caller: Caller, op: Op, relation: str | None) -> str:
    assert relation is not None
    if relation in ORG_RELATIONS and op.name in (
        "org.get",
        "org.rename",
        "members.list",
        "members.add",
        *INVITATION_OPS,
    ):
        org = org_target(caller, relation)
    else:
        target = member_target(caller, relation)
        org = target[0] if target else None
    assert org is not None
    return org


def _reaches_org(caller: Caller, org: str) -> bool:
    if caller.kind == "session":
        return bool(roles_in(caller.user, org))
    if caller.unbound:
        return ORG_TENANT[org] == caller.tenant
    return org == caller.binding


# --- The rule of each operation group, once the caller holds the scope ---------------------
def _key_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    assert relation is not None
    target = key_target(caller, relation)
    assert target is not None, f"{caller.name}: no {relation} target"
    if REACH[caller.name][relation] != "Y":
        return replace(NOT_FOUND, why=f"{relation} key outside the caller's reach (SPEC §2a)")
    if target.owner == caller.user:
        capacity = "owner-key" if caller.is_key else "owner-session"
    else:
        capacity = "admin-session"
    cell = ACTIONS[op.name][capacity]
    note = ""
    if caller.unbound:
        note = (
            "AMBIGUOUS: an unbound key acts on its owner's keys by id with no org hint (SPEC §2a reach, the "
            "lead's table) rather than §4's AMBIGUOUS_ORG/401"
        )
    if cell == "403":
        return denied(f"{op.name} by {capacity} (SPEC §2a)", note=note)
    if cell == "400":
        return Outcome(400, "VALIDATION_ERROR", why="unknown field in the body", field_name="is_active", note=note)
    return ok(why=f"{op.name} by {capacity}", secret=cell.endswith("+secret"), note=note)


def _keys_list_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    return ok(why="lists exactly the reachable keys")


def _keys_create_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    if op.name == "keys.create-unbound":
        if caller.kind == "session" and is_tenant_owner(caller.user):
            return ok(201, why="the tenant owner's session creates an unbound key", secret=True)
        return denied("unbound keys: only the tenant owner's signed-in session creates them (SPEC §2a)")
    perms = caller.perms(org)
    requested = {"keys.create": expand(["scans:read"]), "keys.create-full": ALL, "keys.create-default": perms}[op.name]
    if requested <= perms:
        return ok(201, why="within the creator's effective permissions; secret to its owner", secret=True)
    return denied("a key never gets more than its creator has (SPEC §2)")


def _orgs_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    if op.method == "GET":
        return ok(why="lists exactly the reachable organizations")
    if caller.is_key:
        if caller.unbound:
            return ok(201, why="tenant-level act by the tenant owner's unbound key")
        return denied("an org-bound key is confined to its org: it creates no organization")
    if USERS[caller.user][1] in ("tenant owner", "tenant admin"):
        return ok(201, why="tenant owners/admins create organizations")
    return denied("only tenant owners/admins create organizations")


def _org_path_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    assert org is not None and relation is not None
    actor = caller.user
    if op.method == "GET":
        return ok()
    if not administers(actor, org):
        return denied("only admins of the org manage it")
    if op.name == "org.rename":
        return ok(why="admins rename the org")
    if op.name == "members.add":
        return ok(201, why="admins add members (role viewer)")
    if op.name == "invitation.resend":
        return ok(200, why="admins resend an invitation they may grant (role viewer)")
    if op.name == "invitation.revoke":
        return ok(204, why="admins withdraw an invitation of their org")
    target = member_target(caller, relation)
    assert target is not None
    member = target[1]
    if rank_in(member, org) > rank_in(actor, org):
        return denied("nobody changes someone who ranks above them")
    granted = {"member.grant-tenant-admin": "tenant admin", "member.grant-owner": "tenant owner"}.get(op.name)
    if granted is None:
        return ok(204 if op.method == "DELETE" else 200, why="admins manage lower-ranked members")
    if RANK[granted] > rank_in(actor, org):
        return denied("nobody grants a role above their own")
    if caller.is_key and not caller.unbound:
        # AMBIGUOUS: an org-bound key is confined to its org (SPEC §2 binding); a tenant-wide
        # role reaches every org, so granting one needs a session or an unbound key.
        return denied(
            "an org-bound key grants no tenant-wide role", note="AMBIGUOUS: org-bound keys do not grant tenant roles"
        )
    note = (
        "AMBIGUOUS: a tenant admin may grant an equal rank (tenant admin)"
        if RANK[granted] == rank_in(actor, org) and granted != "tenant owner"
        else ""
    )
    return ok(why=f"grants {granted} (not above the actor's rank)", note=note)


def _scans_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    if relation is None:
        return ok()
    if org_target(caller, relation) != org:
        return replace(NOT_FOUND, why="scan outside the resolved org")
    return ok()


def _upload_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    return ok(201, why="lands in the resolved org")


def _audit_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    return ok()


def _scim_rule(caller: Caller, op: Op, relation: str | None, org: str | None) -> Outcome:
    # Owner-managed (SPEC §13): the tenant owner's session, or its unbound (tenant-wide) key.
    if not is_tenant_owner(caller.user):
        return denied("SCIM tokens are managed by tenant owners only (SPEC §13)")
    if caller.is_key and not caller.unbound:
        # AMBIGUOUS: an org-bound key is confined to its org (SPEC §2); SCIM tokens are tenant-wide.
        return denied(
            "an org-bound key is confined to its org: no tenant-wide SCIM tokens",
            note="AMBIGUOUS: org-bound keys (even the owner's) do not manage SCIM tokens",
        )
    if op.name == "scim-tokens.create":
        if caller.is_key:
            # AMBIGUOUS: a SCIM token reaches every account of the tenant; like an unbound key
            # (SPEC §2a) it is minted from the owner's signed-in session only.
            return denied(
                "a SCIM token is minted from the owner's signed-in session only",
                note="AMBIGUOUS: API keys (even unbound) do not mint SCIM tokens",
            )
        return ok(201, why="the tenant owner's session mints a SCIM token, shown once", secret=True)
    if relation == "other-tenant":
        return replace(NOT_FOUND, why="another tenant's SCIM token")
    return ok()


RULES = {
    KEY: _key_rule,
    KEYS_LIST: _keys_list_rule,
    KEYS_CREATE: _keys_create_rule,
    ORGS: _orgs_rule,
    ORG_PATH: _org_path_rule,
    SCANS: _scans_rule,
    UPLOAD: _upload_rule,
    AUDIT: _audit_rule,
    SCIM: _scim_rule,
}


# --- Cells ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    caller: Caller
    op: Op
    relation: str | None
    outcome: Outcome

    @property
    def label(self) -> str:
        return f"{self.caller.name} × {self.op.name} × {self.relation or '-'}"


def _applies(caller: Caller, op: Op, relation: str | None) -> bool:
    if relation is None:
        return True
    if op.group == KEY:
        return key_target(caller, relation) is not None
    if op.group == ORG_PATH and op.name not in ORG_TARGET_OPS:
        return member_target(caller, relation) is not None
    return org_target(caller, relation) is not None


def cells_for(op: Op) -> list[Cell]:
    out = []
    for caller in CALLERS:
        if op.group not in caller.only:
            continue
        relations = [r for r in op.relations if _applies(caller, op, r)]
        if op.name == "key.activate":  # an inactive key cannot call: no "self"
            relations = [r for r in relations if r != "self"]
        if op.name == "key.widen-scopes":  # nothing to widen on a key that already has everything
            relations = [r for r in relations if (t := key_target(caller, r)) and _widenable(t)]
        if caller.one_target:
            relations = relations[:1]
        cells = [Cell(caller, op, r, expect(caller, op, r)) for r in relations]
        if len(cells) > 2 and len({c.outcome for c in cells}) == 1 and cells[0].outcome.status != 404:
            # Refused before any object is looked up (type, scope, resolution): the first target
            # and the last (the other tenant's) show the answer does not depend on the object.
            cells = [cells[0], cells[-1]]
        if op.reach_probed_by:
            cells = [c for c in cells if c.outcome.status != 404 or c.relation == "other-tenant"]
        out += cells
    return out


WIDER = "scans:write"


def _widenable(target: KeyTarget) -> bool:
    """Adding scans:write widens the key and stays within its owner's role (SPEC §2a)."""
    home = target.org or HOME_ORG[tenant_of(target.owner)]
    return WIDER not in expand(target.scopes) and WIDER in perms_in(target.owner, home)
