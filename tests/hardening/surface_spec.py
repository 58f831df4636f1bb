"""What the SPEC grants every caller on the seed systems' own paths outside ``/api/`` (SPEC §5a).

Tatry's ``/v1/auth/validate`` and ``/v1/auth/keys`` and taap.it's ``/v1/workspaces`` take a key
(``Authorization: Bearer`` or ``X-API-Key``) and are served "by the same core (one model, one
policy)": the key list is ``GET /api/v1/keys/`` (the same reach, SPEC §2a), the workspaces
are the orgs the key reaches (SPEC §4), validate is ``GET /api/v1/auth/validate``. So the
expectations are ``matrix_spec``'s (its callers, scopes, key types, org resolution and REACH
grid), answered in the surface's envelope with the surface's codes (``tatry_code``,
``taapit_detail``: the catalog mapped as SPEC §5a and the migration guides say).
Taffy's ``/auth/token`` (credential exchange) is in ``surface_exchange``.

Nothing here is imported from the application. Where the SPEC is silent the choice is marked
``AMBIGUOUS`` (in the outcome's note, so the report lists it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tests.hardening import matrix_spec as spec
from tests.hardening.matrix_spec import Caller, K, Outcome, ok

# --- Callers beyond matrix_spec's: the attacker's other credentials ----------------------------
# Each holds a key made under an earlier role (surface_matrix.build_surface_world builds the history).
EXTRA_CALLERS: tuple[Caller, ...] = (
    # Another org's org-bound key (A2, a member's): its own org's keys and workspace only.
    Caller(
        "key:sibling/member-scopes",
        K,
        "sibling-member",
        "sibling/member-scopes",
        ("*:read", "keys:write"),
        binding="A2",
    ),
    # Owner removed from A1 after the key was made: SPEC §2 "removing the owner ... kills the key".
    Caller("key:departed/*:read", K, "departed", "departed/*:read", ("*:read",), binding="A1"),
    # Unbound key of a tenant owner since demoted to tenant admin: unbound keys are owner-only.
    Caller("key:ex-owner/unbound", K, "ex-owner", "ex-owner/unbound", ("*",), binding=None),
    # Owner's account deactivated, its A1 role left in place (SPEC §13: "their keys stop working").
    Caller("key:deactivated/*:read", K, "deactivated", "deactivated/*:read", ("*:read",), binding="A1"),
    # A key allowlisted to 10.0.0.0/8 called from 127.0.0.1 claiming X-Forwarded-For 10.1.2.3
    # (no trusted proxy is configured: the peer address decides).
    Caller("key:owner/allowlisted", K, "owner", "owner/allowlisted", ("*",), binding="A1"),
)
ALLOWLISTED = {"key:owner/allowlisted": ["10.0.0.0/8"]}
SPOOFED_FORWARDED_FOR = "10.1.2.3"
DEACTIVATED_USERS = frozenset({"deactivated"})
CALLERS: tuple[Caller, ...] = (*spec.CALLERS, *EXTRA_CALLERS)
CALLER = {c.name: c for c in CALLERS}

# REACH rows (SPEC §2a) of the extra callers that get as far as a key list.
_EXTRA_REACH = """
                            self own own-full own-narrow own-A2 own-unbound peer owner's sibling owner's-unbound other-tenant
key:sibling/member-scopes    Y    -     -        -         -       -        .     .       Y          .              .
"""
EXTRA_REACH = spec._grid(_EXTRA_REACH)


def reach_row(caller: Caller) -> dict[str, str]:
    return spec.REACH.get(caller.name) or EXTRA_REACH.get(caller.name) or spec.REACH.get(caller.name.split("@")[0], {})


def removed(caller: Caller) -> bool:
    """A killed org-bound key whose owner was removed (not deactivated): revoked for good."""
    return killed(caller) and caller.user not in DEACTIVATED_USERS and not caller.unbound


def killed(caller: Caller) -> bool:
    """SPEC §2/§13: the key's owner lost what the key stands on: no role left in its org, no
    longer the tenant owner (unbound keys), or the account deactivated."""
    if not caller.is_key or caller.dead:
        return False
    if caller.user in DEACTIVATED_USERS:
        return True
    if caller.unbound:
        return not spec.is_tenant_owner(caller.user)
    assert caller.binding is not None
    return not spec.roles_in(caller.user, caller.binding)


# --- Operations ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurfaceOp:
    name: str
    endpoint: str  # URL name
    method: str
    system: str  # tatry | taapit | taffy
    rule: spec.Op | None  # the SPEC rule the path serves (scope, key types, org resolution); None: validate
    query: tuple[tuple[str, str], ...] = ()
    targets_revoked: bool = False  # keys lists: the target keys are revoked (with status=revoked)


# SPEC §5a: Tatry's key list is GET /api/v1/keys/ (keys:read, standard keys, SPEC §4 resolution).
KEY_LIST = spec.OP["keys.list"]
# SPEC §5a "the orgs the key reaches": organizations:read, business-data readers (public keys
# read business data, SPEC §2a), hints resolved as SPEC §4 says (a foreign one is a 403).
WORKSPACES = spec.Op(
    "workspaces", "taapit-workspaces", "GET", spec.ORGS, "organizations:read", spec.READERS, needs_org=False
)

SURFACE_OPS: tuple[SurfaceOp, ...] = (
    SurfaceOp("tatry.validate", "tatry-validate", "GET", "tatry", None),
    SurfaceOp("tatry.validate-post", "tatry-validate", "POST", "tatry", None),
    SurfaceOp("tatry.validate-short", "tatry-validate-short", "GET", "tatry", None),
    SurfaceOp("tatry.validate-short-post", "tatry-validate-short", "POST", "tatry", None),
    SurfaceOp("tatry.keys", "tatry-keys", "GET", "tatry", KEY_LIST),
    SurfaceOp(
        "tatry.keys-revoked", "tatry-keys", "GET", "tatry", KEY_LIST, (("status", "revoked"),), targets_revoked=True
    ),
    SurfaceOp("taapit.workspaces", "taapit-workspaces", "GET", "taapit", WORKSPACES),
)
# Taffy's POST /auth/token is walked by surface_exchange's cases.
EXCHANGE_ENDPOINTS = {("taffy-token", "POST")}


def callers_for(op: SurfaceOp) -> list[Caller]:
    if op.rule is None:  # validate: every credential, no hint (validate resolves no org)
        return [c for c in CALLERS if spec.IDENTITY in c.only]
    if op.rule.group == spec.KEYS_LIST:
        return [c for c in CALLERS if spec.KEYS_LIST in c.only]
    # workspaces: every credential, and the keys that name an org or tenant (SPEC §4)
    return [c for c in CALLERS if spec.ORGS in c.only or (c.is_key and (c.hint or c.tenant_hint))]


# --- Outcomes ---------------------------------------------------------------------------------
MISSING = Outcome(401, "UNAUTHORIZED", "Missing API key", why="no key")
NO_KEY_SESSION = replace(
    MISSING,
    why="a session carries no key",
    note="AMBIGUOUS: the seed surfaces authenticate by key only, as their documents do (a session is no key)",
)
KILLED = Outcome(
    401,
    "UNAUTHORIZED",
    why="the owner lost the role the key stands on, or was deactivated: the key is dead",
    note="AMBIGUOUS: a killed key answers 401 like an unknown one (SPEC §2 says only 'kills')",
)
REMOVED = replace(
    spec.DEAD["revoked"],
    why="the owner was removed from the key's org: removal revokes the key (docs/authorization.md, 'Removal kills')",
)
IP_REFUSED = Outcome(403, "IP_NOT_ALLOWED", why="caller IP outside the allowlist (X-Forwarded-For not trusted)")


def expect(caller: Caller, op: SurfaceOp) -> Outcome:
    if caller.kind == "anonymous":
        return MISSING
    if caller.kind == "session":
        return NO_KEY_SESSION
    if caller.dead:
        return spec.DEAD[caller.dead]
    if killed(caller):
        return REMOVED if removed(caller) else KILLED
    if caller.name in ALLOWLISTED:
        return IP_REFUSED
    if op.rule is None:
        if caller.unbound and caller.resolved_org() is None:
            # Tatry's answer always names an organization (its SDK requires it): SPEC §4.
            return Outcome(400, "AMBIGUOUS_ORG", why="unbound key, two orgs, no hint: Tatry's validate names one org")
        return ok(why="validate admits every key type")
    outcome = spec.expect(caller, op.rule, None)
    if op.rule is WORKSPACES and outcome.ok and caller.unbound and caller.hint:
        return replace(
            outcome,
            note="AMBIGUOUS: a hint is checked (SPEC §4) but the answer stays every org the key reaches (SPEC §5a)",
        )
    return outcome


def reachable_orgs(caller: Caller) -> set[str]:
    """SPEC §5a: the orgs the key reaches: its own; every org of its tenant when unbound."""
    if caller.unbound:
        return {label for label, tenant in spec.ORG_TENANT.items() if tenant == caller.tenant}
    assert caller.binding is not None
    return {caller.binding}


# SPEC §6: the world's tenants are on the enterprise plan; no caller key has an override.
ENTERPRISE_LIMITS = {"requests_per_minute": 1000, "requests_per_hour": 50000}


# --- The surfaces' error vocabularies (SPEC §5a, the migration guides) --------------------------
_TATRY = {
    "UNAUTHORIZED": "auth_invalid_key",
    "KEY_REVOKED": "auth_invalid_key",
    "KEY_INACTIVE": "auth_invalid_key",
    "KEY_EXPIRED": "auth_expired_key",
    "PERMISSION_DENIED": "auth_permission_denied",
    # AMBIGUOUS: SPEC §5a names three codes; a valid key refused here is Tatry's permission denial.
    "KEY_TYPE_NOT_ALLOWED": "auth_permission_denied",
    "IP_NOT_ALLOWED": "auth_permission_denied",
    "WORKSPACE_ACCESS_DENIED": "auth_permission_denied",
}
KEY_STATUS = {"KEY_REVOKED": "revoked", "KEY_INACTIVE": "inactive", "Missing API key": "missing"}


def tatry_code(catalog_code: str) -> str:
    """Tatry's code for a catalog code: its three, else the catalog code in lower case."""
    return _TATRY.get(catalog_code, catalog_code.lower())


_TAAPIT = {
    "Invalid token": "Invalid API key",
    "Invalid authorization header format": "Invalid API key",
    "Missing API key": "Authentication credentials were not provided.",
}


def taapit_detail(message: str) -> str:
    """taap.it's ``detail`` for a catalog message (SPEC §5a: "Invalid API key" and the like)."""
    return _TAAPIT.get(message, message)


__all__ = [
    "CALLERS",
    "ENTERPRISE_LIMITS",
    "EXCHANGE_ENDPOINTS",
    "SURFACE_OPS",
    "SurfaceOp",
    "callers_for",
    "expect",
    "reach_row",
    "reachable_orgs",
    "taapit_detail",
    "tatry_code",
]
