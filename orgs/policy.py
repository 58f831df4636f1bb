"""Who may do what to which object (SPEC §1, §2a): the one place that answers it.

Every channel (API, UI, admin, management commands) goes through the services, and the
services ask these rules; no view, form or serializer decides access itself. The rules
are plain functions of plain facts, so they read like the SPEC's tables:

- an ``Actor``: the person acting, their roles in the tenant, and the API key the call
  came through (``Credential``), if any; or an operator (Django admin, ``manage.py``);
- the target: a key (anything with ``owner_id``, ``tenant_id``, ``organization_id``,
  ``scopes``), an org, a member's rank.

A refusal is a ``Decision`` with a reason, which services raise as ``NotPermitted``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings

from orgs import roles
from tater import scopes as S
from tater.exceptions import NotPermitted

# Public keys (ck_) read business data only: never keys, members or the audit log.
PUBLIC_KEY_SCOPES: frozenset[str] = frozenset({"scans:read", "organizations:read"})
# Agent keys (ak_) are admitted only to the scan upload (and to validate and me, which need
# no scope): scans:write, which implies scans:read.
AGENT_KEY_SCOPES: frozenset[str] = frozenset({"scans:write", "scans:read"})
# A rotated-out secret, in its grace period, keeps its integration working while it moves to
# the new secret; it grants no access that outlives it (SPEC §2a: a key is rotated by its
# owner): it could rotate the key again (the owner's new secret dies, its holder gets the
# next one), mint a key, or add a member who mints them.
ROTATED_OUT_WITHHELD: frozenset[str] = frozenset({"keys:write", "members:write"})


@dataclass(frozen=True)
class Credential:
    """The API key a call came through."""

    key_pk: int
    org_pk: int | None  # None: an unbound (tenant-wide) key
    permissions: frozenset[str]  # its effective permissions on this request


@dataclass(frozen=True)
class Actor:
    """Who acts: a user with their roles in one tenant, through a session or a key."""

    user: Any  # the User (for the audit entry); None for an operator without an account
    tenant_pk: int
    tenant_role: str | None = None
    org_roles: Mapping[int, str] = field(default_factory=dict)
    credential: Credential | None = None
    operator: bool = False  # Django admin staff or a management command

    @property
    def user_pk(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def via_key(self) -> bool:
        return self.credential is not None

    @property
    def is_tenant_owner(self) -> bool:
        return self.tenant_role == roles.TenantRole.OWNER

    def role_scopes(self, org_pk: int | None) -> frozenset[str]:
        """What the user's roles allow in ``org_pk`` (None: tenant-wide, owners only)."""
        if org_pk is None:
            return S.ALL_SCOPES if self.is_tenant_owner else frozenset()
        return roles.role_scopes(self.tenant_role, self.org_roles.get(org_pk))

    def permissions(self, org_pk: int | None) -> frozenset[str]:
        """Role scopes, narrowed by the credential the call came through."""
        granted = self.role_scopes(org_pk)
        if self.credential is not None:
            granted &= self.credential.permissions
        return granted

    def rank(self, org_pk: int | None) -> int:
        return roles.effective_rank(self.tenant_role, self.org_roles.get(org_pk) if org_pk else None)

    def administers(self, org_pk: int | None) -> bool:
        """Tenant owners/admins administer every org; org admins theirs. Unbound keys
        belong to no org: only tenant owners administer them."""
        if org_pk is None:
            return self.is_tenant_owner
        return bool(self.tenant_role) or self.org_roles.get(org_pk) == roles.OrgRole.ADMIN


class KeyFacts(Protocol):
    owner_id: int
    tenant_id: int
    organization_id: int | None
    scopes: list[str]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # A refusal for a missing permission names it, and what the actor has (SPEC §3).
    required: tuple[str, ...] = ()
    current: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str, *, required: Iterable[str] = (), current: Iterable[str] = ()) -> Decision:
    return Decision(False, reason, tuple(sorted(required)), tuple(sorted(current)))


def require(decision: Decision, *, field: str | None = None, details: dict[str, Any] | None = None) -> None:
    if not decision:
        details = dict(details or {})
        if decision.required:
            details.setdefault("required_permissions", list(decision.required))
            details.setdefault("current_permissions", list(decision.current))
        raise NotPermitted(decision.reason, field=field, details=details)


# --- Keys: reach ------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyReach:
    """The keys an actor reaches in a request, as data a selector turns into a query.

    ``owner_pk`` None: anyone's keys; ``org_pks`` None: every org of the tenant;
    ``max_permissions`` None: any scopes (else the key's scopes must lie within)."""

    tenant_pk: int
    owner_pk: int | None
    org_pks: frozenset[int] | None
    unbound: bool
    max_permissions: frozenset[str] | None = None

    def contains(self, key: KeyFacts) -> bool:
        if key.tenant_id != self.tenant_pk:
            return False
        if self.owner_pk is not None and key.owner_id != self.owner_pk:
            return False
        if key.organization_id is None:
            if not self.unbound:
                return False
        elif self.org_pks is not None and key.organization_id not in self.org_pks:
            return False
        return self.max_permissions is None or S.expand(key.scopes) <= self.max_permissions


NOTHING = KeyReach(tenant_pk=0, owner_pk=0, org_pks=frozenset(), unbound=False)


def key_reach(actor: Actor, *, org_pk: int | None) -> KeyReach:
    """SPEC §2a "A key's reach" and "Admins": ``org_pk`` is the org the request resolved to.

    - An API key: its owner's keys whose scopes lie within the key's effective permissions,
      bound to the key's own org (an org-bound key) or in every org and unbound (an unbound
      key: "reaches all of its owner's keys" widens the orgs, never the scopes; a
      ``keys:write`` key must not rotate a ``*`` key and receive its secret).
    - A person: their own keys in the org; every key of the org they administer; the
      tenant's unbound keys when they are a tenant owner.
    - An operator: every key of the tenant.
    """
    if actor.operator:
        return KeyReach(tenant_pk=actor.tenant_pk, owner_pk=None, org_pks=None, unbound=True)
    if actor.user_pk is None:
        return NOTHING
    cred = actor.credential
    if cred is not None:
        if cred.org_pk is None:
            return KeyReach(
                tenant_pk=actor.tenant_pk,
                owner_pk=actor.user_pk,
                org_pks=None,
                unbound=True,
                max_permissions=cred.permissions,
            )
        return KeyReach(
            tenant_pk=actor.tenant_pk,
            owner_pk=actor.user_pk,
            org_pks=frozenset({cred.org_pk}),
            unbound=False,
            max_permissions=cred.permissions,
        )
    orgs = frozenset({org_pk}) if org_pk is not None else frozenset()
    if org_pk is not None and actor.administers(org_pk):
        return KeyReach(tenant_pk=actor.tenant_pk, owner_pk=None, org_pks=orgs, unbound=actor.is_tenant_owner)
    if actor.is_tenant_owner:
        # Owners see every unbound key of the tenant, and their own org keys here.
        return KeyReach(tenant_pk=actor.tenant_pk, owner_pk=None, org_pks=frozenset(), unbound=True)
    return KeyReach(tenant_pk=actor.tenant_pk, owner_pk=actor.user_pk, org_pks=orgs, unbound=False)


def _owns(actor: Actor, key: KeyFacts) -> bool:
    return actor.user_pk is not None and key.owner_id == actor.user_pk


# --- Keys: actions ----------------------------------------------------------------------


def can_rotate_key(actor: Actor, key: KeyFacts) -> Decision:
    """Rotation returns the new secret, and secrets go only to owners."""
    if not _owns(actor, key):
        return deny("Only the key's owner can rotate it: rotation returns the new secret")
    return ALLOW


def can_revoke_key(actor: Actor, key: KeyFacts) -> Decision:
    """Revoking and deactivating only take access away: whoever reaches the key may."""
    return ALLOW


def can_activate_key(actor: Actor, key: KeyFacts) -> Decision:
    """Reactivation gives access back, a widening: the owner's signed-in session (or an
    operator), never an API key (keys only narrow) nor an admin, who may deactivate, revoke
    and narrow another person's key but never widen it (SPEC §2a)."""
    if actor.via_key:
        return deny("A key can be reactivated from a signed-in session only, not with an API key")
    if _owns(actor, key) or actor.operator:
        return ALLOW
    return deny("Only the key's owner can reactivate it: admins may deactivate, revoke or narrow another person's key")


@dataclass(frozen=True)
class KeyChange:
    """A requested change of a key's restrictions, compared with what it has now."""

    widened: tuple[str, ...]  # names of the restrictions the change loosens
    scopes: list[str] | None = None  # the new scopes, when they change
    relabelled: tuple[str, ...] = ()  # what describes the key to its owner and integration (name, metadata)


def _networks(cidrs: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def allowlist_widens(old: Iterable[str], new: Iterable[str]) -> bool:
    """An empty allowlist admits every address. A new list is a narrowing when every
    network in it lies inside one of the old list's networks."""
    old_nets, new_nets = _networks(old), _networks(new)
    if not old_nets:
        return False
    if not new_nets:
        return True
    return not all(
        any(n.version == o.version and n.subnet_of(o) for o in old_nets)  # type: ignore[arg-type]
        for n in new_nets
    )


def usage_limit_widens(old: tuple[int | None, str], new: tuple[int | None, str]) -> bool:
    """(limit, refill): removing a limit, raising it, or refilling more often widens it."""
    (old_limit, old_refill), (new_limit, new_refill) = old, new
    if old_limit is None:
        return False
    if new_limit is None or new_limit > old_limit:
        return True
    often = {"": 0, "monthly": 1, "daily": 2}
    return often.get(new_refill, 0) > often.get(old_refill, 0)


def expiry_widens(old: datetime | None, new: datetime | None) -> bool:
    if old is None:
        return False
    return new is None or new > old


def rate_widens(old: tuple[int, int] | None, new: tuple[int, int] | None) -> bool:
    """Rates as (requests, window seconds); None: no per-key limit (the plan's). A new rate
    narrows only if it is certain to hold the old one: at most the old count in every window
    the old rate limited. A lower average is not enough: "299/hour" in place of "5/min"
    lets 299 through in one minute, "5/min" in place of "299/hour" 300 in an hour."""
    if old is None:
        return False
    if new is None:
        return True
    return most_admitted(new, old[1], aligned=old[1] > _rolling_max()) > old[0]


def _rolling_max() -> int:
    """Windows up to this many seconds roll, longer ones are fixed (``tater.limiter``)."""
    return int(getattr(settings, "TATER_RATELIMIT_ROLLING_MAX_SECONDS", 60))


def most_admitted(rate: tuple[int, int], seconds: int, *, aligned: bool) -> int:
    """The most requests ``rate`` lets through within ``seconds``: in any interval that long,
    or (``aligned``) in each of the fixed windows of that length (windows are aligned to the
    epoch, so one fixed window lies inside another when either length divides the other)."""
    count, window = rate
    rolling = window <= _rolling_max()
    if aligned and not rolling and (window % seconds == 0 or seconds % window == 0):
        return count if window >= seconds else count * (seconds // window)
    windows = -(-seconds // window)  # whole windows an interval of ``seconds`` spans
    # A fixed window can be met twice at its edges: an interval straddles a boundary.
    return count * (windows if rolling else windows + 1)


def can_change_key(actor: Actor, key: KeyFacts, change: KeyChange) -> Decision:
    """Through an API key, or for anyone but the owner, restrictions only tighten.
    Widening needs the owner's signed-in session, and stays within the owner's role.
    A key's name and metadata (which validate returns to its integration) are its owner's:
    admins may deactivate, revoke and narrow another person's key (SPEC §2a), not relabel it."""
    if change.relabelled and not (_owns(actor, key) or actor.operator):
        what = " and ".join(change.relabelled)
        return deny(f"Only the key's owner can change its {what}; you may deactivate, revoke or narrow it")
    if not change.widened:
        return ALLOW
    what = ", ".join(change.widened)
    if actor.via_key:
        return deny(f"An API key can only narrow a key ({what} would widen it): sign in to widen a key")
    if not _owns(actor, key):
        return deny(f"Only the key's owner can widen it ({what}); you may only narrow it")
    if change.scopes is not None:
        beyond = S.expand(change.scopes) - actor.role_scopes(key.organization_id)
        if beyond:
            return deny("A key cannot have more permissions than its owner's role")
    return ALLOW


# --- Keys: creation ---------------------------------------------------------------------


def key_creation_scopes(actor: Actor, *, org_pk: int | None) -> frozenset[str]:
    """What a new key may carry: the creator's role in the org, narrowed by the calling
    key's effective permissions (SPEC §2: never more than its creator has)."""
    return actor.permissions(org_pk)


def can_create_key(actor: Actor, *, org_pk: int | None, key_type: str, creation_policy: str) -> Decision:
    if actor.operator and actor.user_pk is None:
        return deny("A key needs an owner")
    if org_pk is None:
        if actor.via_key:
            return deny("Unbound keys can only be created from a tenant owner's signed-in session")
        if not actor.is_tenant_owner:
            return deny("Only tenant owners can create unbound keys")
    elif actor.credential is not None and actor.credential.org_pk not in (None, org_pk):
        return deny("An organization's key can only create keys in its own organization")
    if "keys:write" not in actor.permissions(org_pk):
        return deny("You need the keys:write permission to create API keys")
    org_role = actor.org_roles.get(org_pk) if org_pk else None
    if creation_policy == "owners" and not actor.is_tenant_owner:
        return deny("This tenant allows only its owners to create API keys")
    if creation_policy == "admins" and not (actor.tenant_role or org_role == roles.OrgRole.ADMIN):
        return deny("This tenant allows only owners and admins to create API keys")
    return ALLOW


def default_key_scopes(actor: Actor, *, org_pk: int | None, key_type: str) -> list[str]:
    """A create without scopes gets the caller's own effective permissions (SPEC §2a),
    as far as the key type allows."""
    granted = key_creation_scopes(actor, org_pk=org_pk)
    if key_type == "public":
        granted &= PUBLIC_KEY_SCOPES
    elif key_type == "agent":
        granted &= AGENT_KEY_SCOPES
    if granted == S.ALL_SCOPES:
        return [S.FULL_ACCESS]
    # write implies read: list only what is not implied.
    return sorted(s for s in granted if not (s.endswith(":read") and s.replace(":read", ":write") in granted))


# --- Members, invitations, orgs and tenant settings ------------------------------------

ORG_ADMIN_RANK = roles.ORG_ROLE_RANK[roles.OrgRole.ADMIN]
TENANT_ADMIN_RANK = roles.TENANT_ROLE_RANK[roles.TenantRole.ADMIN]


def can_manage_members(actor: Actor, *, org_pk: int) -> Decision:
    if actor.operator:
        return ALLOW
    if actor.rank(org_pk) < ORG_ADMIN_RANK:
        return deny("Only organization admins and tenant owners/admins can manage members")
    if actor.credential is not None and "members:write" not in actor.credential.permissions:
        return deny("Missing permission members:write")
    return ALLOW


def can_grant_role(
    actor: Actor, *, org_pk: int, role_rank: int, role: str, held: frozenset[str] = frozenset()
) -> Decision:
    """Nobody grants a role above their own (orgs.roles ranks); through an API key, nobody
    gets more than the key has (SPEC §2, §2a): the key must hold every scope the role gives
    that the person does not hold already (``held``: their current roles' scopes here), or a
    ``members:write`` key could make its finder an org admin. A demotion gives nothing."""
    if not (actor.operator or role_rank <= actor.rank(org_pk)):
        return deny(f"You cannot grant the role {role!r}: it is above your own")
    if actor.credential is not None:
        tenant_wide = role_rank >= TENANT_ADMIN_RANK
        gives = (roles.TENANT_ROLE_SCOPES if tenant_wide else roles.ORG_ROLE_SCOPES).get(role, S.ALL_SCOPES)
        if not gives - held <= actor.credential.permissions:
            return deny(
                f"This API key cannot grant the role {role!r}: the role has permissions the key does not",
                required=gives,
                current=actor.credential.permissions,
            )
    return ALLOW


def can_change_member(actor: Actor, *, org_pk: int, member_pk: int, member_rank: int) -> Decision:
    """Nobody changes or removes someone who ranks above them."""
    if actor.operator or member_pk == actor.user_pk or member_rank <= actor.rank(org_pk):
        return ALLOW
    return deny("You cannot change a member whose role is above yours")


def can_change_tenant_roles(actor: Actor) -> Decision:
    if actor.credential is not None and actor.credential.org_pk is not None:
        # A tenant role reaches every org: an org-bound key is confined to its own.
        return deny("An organization's API key cannot change tenant-wide roles")
    if actor.operator or actor.rank(None) >= TENANT_ADMIN_RANK:
        return ALLOW
    return deny("Only tenant owners and admins can change tenant roles")


def can_change_tenant_settings(actor: Actor) -> Decision:
    """Plan, policies and single sign-on: tenant owners only (SPEC §1)."""
    if actor.operator or actor.is_tenant_owner:
        return ALLOW
    return deny("Only tenant owners can change the plan and policies")


def can_create_org(actor: Actor) -> Decision:
    if actor.operator or actor.rank(None) >= TENANT_ADMIN_RANK:
        return ALLOW
    held = frozenset().union(*(roles.role_scopes(None, role) for role in actor.org_roles.values()))
    return deny(
        "Only tenant owners and admins can create organizations",
        required=["organizations:write"],
        current=held | actor.role_scopes(None),
    )


def can_rename_org(actor: Actor, *, org_pk: int) -> Decision:
    if actor.operator or actor.rank(org_pk) >= ORG_ADMIN_RANK:
        return ALLOW
    return deny("Only tenant owners/admins and organization admins can rename an organization")


def can_exchange_credentials(actor: Actor, *, org_pk: int, exchange_policy: str) -> Decision:
    """``POST auth/token`` (email + password → a new key): the tenant's
    ``token_exchange_policy`` says which roles may (owners by default)."""
    org_role = actor.org_roles.get(org_pk)
    if exchange_policy == "owners":
        allowed = actor.is_tenant_owner
    elif exchange_policy == "admins":
        allowed = bool(actor.tenant_role) or org_role == roles.OrgRole.ADMIN
    else:
        allowed = "keys:write" in actor.role_scopes(org_pk)
    if allowed:
        return ALLOW
    return deny("This tenant does not allow your role to exchange credentials for an API key")


def can_manage_scim_tokens(actor: Actor, *, issuing: bool) -> Decision:
    """Tenant owners (as for tenant settings). A SCIM token reaches every account of the
    tenant, so it is issued from a signed-in session only (keys only narrow, SPEC §2a); an
    organization's key never touches it (it is confined to its org)."""
    decision = can_change_tenant_settings(actor)
    if not decision:
        return decision
    credential = actor.credential
    if credential is not None and issuing:
        return deny("A SCIM token can only be created from a tenant owner's signed-in session")
    if credential is not None and credential.org_pk is not None:
        return deny("An organization's API key cannot manage the tenant's SCIM tokens")
    return ALLOW
