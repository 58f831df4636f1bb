"""The reference model of who may do what (SPEC §1, §2, §2a, §4), written from the SPEC
and the key-authorization rules, never from the code under test.

``tests/hardening/test_authz_state_machine.py`` drives the HTTP API with random actors and
operations and checks every answer against this model. The model is plain Python: no
import of the application's policy, roles, scopes or selectors.

Vocabulary:

- a *person* is a user of the world (by short name: ``owner``, ``tadmin``, ...);
- a *caller* is a person's signed-in session or one API key secret;
- a *context* (``Ctx``) is a caller resolved into one organization, with the scopes the
  SPEC grants there;
- an ``Expect`` is what the model knows about an operation before it runs: ``must_fail``
  (a reason why no 2xx is acceptable) or may succeed, and whether a refusal must be 404.

The model insists only on what the SPEC and the rules say. Where they leave room it
accepts either answer ("may"), and says so here:

- an unbound key reaches all its owner's keys whatever the org hint; an org hint narrowing
  its list is fine; it may be refused (401) on write endpoints (SPEC §3, §4);
- tenant owners may see unbound keys of former owners (must: those of current owners);
- a key whose owner lost the roles behind its binding may be dead (401) or live with no
  permissions (SPEC §2 "narrows or kills");
- refusals are never required except where the rules name them; a 404 is required for a
  key or member out of reach (and for an org outside reach in a path), a 400 for unknown
  fields in a key PATCH;
- a verified account may be invited rather than added; adding an existing (verified)
  member is refused (409); an org-bound key may be refused tenant-role changes;
- a tenant owner's session may create an unbound key without an org hint.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# --- Scopes and roles (SPEC §1, §2) -----------------------------------------------------

RESOURCES = ("organizations", "members", "keys", "audit", "scans")
ALL: frozenset[str] = frozenset(f"{r}:{a}" for r in RESOURCES for a in ("read", "write"))
READ: frozenset[str] = frozenset(f"{r}:read" for r in RESOURCES)
# Public keys read business data only (rules: capped to these two).
PUBLIC_CAP: frozenset[str] = frozenset({"scans:read", "organizations:read"})
# Agent keys upload scans only (SPEC §2, §5; s39: other scopes refused, as a public key's).
AGENT_CAP: frozenset[str] = frozenset({"scans:write", "scans:read"})

TENANT_ROLES = ("owner", "admin")
ORG_ROLES = ("admin", "member", "viewer")
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "tenant:owner": ALL,
    "tenant:admin": ALL,
    "org:admin": ALL,
    "org:member": READ | {"scans:write", "keys:write"},
    "org:viewer": READ - {"audit:read"},
}
ORG_RANK = {"viewer": 1, "member": 2, "admin": 3}
TENANT_RANK = {"admin": 4, "owner": 5}

# Endpoints and the key types that may call them (SPEC §2: agents only where admitted,
# public keys read business data only).
STANDARD_ONLY = frozenset({"standard"})
READ_TYPES = frozenset({"standard", "public"})
UPLOAD_TYPES = frozenset({"standard", "agent"})
ANY_TYPE = frozenset({"standard", "agent", "public"})

PATCHABLE = frozenset({"name", "scopes", "allowed_ips", "expires_at", "rate_limit"})
CLIENT_IP = ipaddress.ip_address("127.0.0.1")  # the test client's REMOTE_ADDR


def expand(specs: Iterable[str]) -> frozenset[str]:
    """``*`` / ``*:read`` / ``resource:action`` specs as concrete scopes; write implies read."""
    out: set[str] = set()
    for spec in specs:
        if spec == "*":
            return ALL
        if spec == "*:read":
            out |= READ
        elif spec in ALL:
            out.add(spec)
            resource, action = spec.split(":")
            if action == "write":
                out.add(f"{resource}:read")
    return frozenset(out)


def valid_specs(specs: Iterable[str]) -> bool:
    specs = list(specs)
    return bool(specs) and all(s in ("*", "*:read") or s in ALL for s in specs)


def rate_per_second(value: str) -> float | None:
    """``"900/min"`` → 15.0; ``""`` → None (no per-key limit). Only /min and /hour used."""
    if not value:
        return None
    count, unit = value.split("/")
    return int(count) / {"min": 60, "hour": 3600}[unit]


# --- The world -----------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    pk: int
    email: str
    verified: bool
    public_id: str  # the id the API shows and takes (usr-...)


@dataclass
class Key:
    id: str
    tenant: str  # tenant public id
    org: str | None  # org public id; None = unbound
    owner: str  # person name
    type: str
    scopes: frozenset[str]  # expanded
    is_active: bool = True
    revoked: bool = False
    allowed_ips: tuple[str, ...] = ()
    expires_at: datetime | None = None
    rate_limit: str = ""
    name: str = ""
    # secret → usable (current secret, previous one inside its grace period)
    secrets: dict[str, bool] = field(default_factory=dict)

    @property
    def ip_ok(self) -> bool:
        return not self.allowed_ips or any(CLIENT_IP in ipaddress.ip_network(n) for n in self.allowed_ips)


@dataclass
class Invite:
    token: str
    org: str
    email: str
    role: str
    pending: bool = True


@dataclass(frozen=True)
class Caller:
    """A signed-in person (``secret`` None) or one API key secret."""

    person: str
    key_id: str | None = None
    secret: str | None = None

    @property
    def via_key(self) -> bool:
        return self.key_id is not None

    def label(self) -> str:
        return f"key {self.key_id} of {self.person}" if self.via_key else f"session of {self.person}"

    def __repr__(self) -> str:  # what Hypothesis prints for a draw: never the secret
        return f"<{self.label()}{' (secret ' + self.secret[:10] + '…)' if self.secret else ''}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's printer
        printer.text(repr(self))


@dataclass(frozen=True)
class Ctx:
    """A caller resolved into an org (``org`` None only for tenant-level reads)."""

    caller: Caller
    person: str
    tenant: str
    org: str | None
    scopes: frozenset[str]
    key: Key | None


@dataclass
class Expect:
    """``must_fail``: why a 2xx would break the SPEC (None: the call may succeed);
    ``kind`` of that failure (``type``, ``auth``, ``org``, ``scope``, ``reach``, ``rule``,
    ``input``); ``status``: the one status the rules name for the refusal, if any (404 for
    a key or member out of reach, 400 for unknown fields)."""

    must_fail: str | None = None
    kind: str = ""
    status: frozenset[int] | None = None
    ctx: Ctx | None = None

    @classmethod
    def fail(
        cls, reason: str, *, kind: str = "rule", ctx: Ctx | None = None, status: int | frozenset[int] | None = None
    ) -> Expect:
        statuses = frozenset({status}) if isinstance(status, int) else status
        return cls(must_fail=reason, kind=kind, status=statuses, ctx=ctx)


@dataclass
class World:
    tenants: dict[str, str]  # short name (A, B) → tenant public id
    orgs: dict[str, str]  # org public id → tenant public id
    org_names: dict[str, str]  # short name (A1, A2, B1) → org public id
    people: dict[str, Person]
    tenant_roles: dict[tuple[str, str], str]  # (tenant id, person) → owner/admin
    org_roles: dict[tuple[str, str], str]  # (org id, person) → admin/member/viewer
    keys: dict[str, Key]
    scans: dict[str, str] = field(default_factory=dict)  # scan id → org id
    invites: list[Invite] = field(default_factory=list)
    session_org: dict[str, str] = field(default_factory=dict)  # person → current org (UI switcher)
    unknown_emails: list[str] = field(default_factory=list)

    # -- roles -----------------------------------------------------------------------------

    def tenant_of_org(self, org: str) -> str:
        return self.orgs[org]

    def tenant_role(self, person: str, tenant: str) -> str | None:
        return self.tenant_roles.get((tenant, person))

    def org_role(self, person: str, org: str) -> str | None:
        return self.org_roles.get((org, person))

    def role_scopes(self, person: str, org: str) -> frozenset[str]:
        """A person's scopes in an org: their tenant role's and their org role's, united."""
        out: frozenset[str] = frozenset()
        tenant_role = self.tenant_role(person, self.tenant_of_org(org))
        if tenant_role:
            out |= ROLE_SCOPES[f"tenant:{tenant_role}"]
        org_role = self.org_role(person, org)
        if org_role:
            out |= ROLE_SCOPES[f"org:{org_role}"]
        return out

    def rank(self, person: str, org: str) -> int:
        tenant_role = self.tenant_role(person, self.tenant_of_org(org))
        if tenant_role:
            return TENANT_RANK[tenant_role]
        org_role = self.org_role(person, org)
        return ORG_RANK[org_role] if org_role else 0

    def administers(self, person: str, org: str) -> bool:
        return self.rank(person, org) >= ORG_RANK["admin"]

    def is_tenant_owner(self, person: str, tenant: str) -> bool:
        return self.tenant_role(person, tenant) == "owner"

    def reachable_orgs(self, person: str) -> list[str]:
        return sorted(
            org for org, tenant in self.orgs.items() if self.tenant_role(person, tenant) or self.org_role(person, org)
        )

    def person_tenants(self, person: str) -> set[str]:
        return {self.orgs[o] for o in self.reachable_orgs(person)} | {t for (t, p) in self.tenant_roles if p == person}

    def reaches_org(self, person: str, org: str) -> bool:
        """Listed among the org's members: an org role there or a tenant role in its tenant."""
        return bool(self.org_role(person, org) or self.tenant_role(person, self.tenant_of_org(org)))

    def owners(self, tenant: str) -> list[str]:
        return [p for (t, p), role in self.tenant_roles.items() if t == tenant and role == "owner"]

    def person_by_email(self, email: str) -> Person | None:
        return next((p for p in self.people.values() if p.email == email), None)

    # -- keys ------------------------------------------------------------------------------

    def key_role_scopes(self, key: Key) -> frozenset[str]:
        """What the owner's current roles allow for the key's binding."""
        if key.org is None:
            return ALL if self.is_tenant_owner(key.owner, key.tenant) else frozenset()
        return self.role_scopes(key.owner, key.org)

    def effective(self, key: Key) -> frozenset[str]:
        """SPEC §2: key scopes ∩ the owner's current role scopes (∩ the public cap)."""
        granted = key.scopes & self.key_role_scopes(key)
        if key.type == "public":
            granted &= PUBLIC_CAP
        return granted

    def key_usable(self, key: Key, secret: str) -> bool:
        """Authenticates at all (401/403 otherwise): never once revoked or deactivated."""
        return key.secrets.get(secret, False) and not key.revoked and key.is_active and key.ip_ok

    def owner_holds_binding(self, key: Key) -> bool:
        """The owner still reaches the key's org (unbound: is still a tenant owner)."""
        if key.org is None:
            return self.is_tenant_owner(key.owner, key.tenant)
        return self.reaches_org(key.owner, key.org)

    def secret_owner(self, secret: str) -> tuple[Key, str] | None:
        for key in self.keys.values():
            if secret in key.secrets:
                return key, key.owner
        return None

    # -- resolution (SPEC §4) --------------------------------------------------------------

    def resolve(self, caller: Caller, hint: str | None, *, org_required: bool = True) -> Ctx | str:
        """The caller in an org, or why the call cannot get that far (a string)."""
        if not caller.via_key:
            person = caller.person
            reachable = self.reachable_orgs(person)
            if hint is not None:
                if hint not in reachable:
                    return f"{person} does not reach org {self.org_label(hint)}"
                org: str | None = hint
            elif self.session_org.get(person) in reachable:
                org = self.session_org[person]
            elif len(reachable) == 1:
                org = reachable[0]
            elif reachable and not org_required:
                org = None
            else:
                return f"{person}: no org resolvable (ambiguous or none)"
            if org is None:
                # Tenant level (no org chosen): the first tenant the person belongs to, with
                # what their tenant role and their org roles there grant.
                tenant = next(t for t in self.tenants.values() if t in self.person_tenants(person))
                scopes: frozenset[str] = frozenset()
                tenant_role = self.tenant_role(person, tenant)
                if tenant_role:
                    scopes |= ROLE_SCOPES[f"tenant:{tenant_role}"]
                for (o, p), role in self.org_roles.items():
                    if p == person and self.orgs[o] == tenant:
                        scopes |= ROLE_SCOPES[f"org:{role}"]
                return Ctx(caller, person, tenant, None, scopes, None)
            return Ctx(caller, person, self.orgs[org], org, self.role_scopes(person, org), None)
        key = self.keys[caller.key_id]  # type: ignore[index]
        if not self.key_usable(key, caller.secret):  # type: ignore[arg-type]
            return f"key {key.id} is not usable (revoked, inactive, rotated out or IP)"
        if key.org is not None:
            if hint is not None and hint != key.org:
                return f"org-bound key {key.id} hinted to another org {self.org_label(hint)}"
            org = key.org
        else:
            tenant_orgs = sorted(o for o, t in self.orgs.items() if t == key.tenant)
            if hint is not None:
                if hint not in tenant_orgs:
                    return f"unbound key {key.id} hinted to a foreign org"
                org = hint
            elif len(tenant_orgs) == 1:
                org = tenant_orgs[0]
            elif org_required:
                return f"unbound key {key.id} without a hint in a multi-org tenant"
            else:
                org = None
        return Ctx(caller, key.owner, key.tenant, org, self.effective(key), key)

    def org_label(self, org: str) -> str:
        return next((name for name, pid in self.org_names.items() if pid == org), org)

    # -- reach (rules: "Which keys a caller can see/act on") --------------------------------

    def key_reach(self, ctx: Ctx) -> tuple[set[str], set[str]]:
        """(may see, must see): the keys the context reaches. ``must`` ⊆ ``may``; they differ
        where the rules leave room (an unbound key's org hint, ex-owners' unbound keys)."""
        may: set[str] = set()
        must: set[str] = set()
        key = ctx.key
        for k in self.keys.values():
            if k.tenant != ctx.tenant:
                continue
            if key is None:
                if k.org is None:
                    if self.is_tenant_owner(ctx.person, ctx.tenant):
                        may.add(k.id)
                        if self.is_tenant_owner(k.owner, ctx.tenant):
                            must.add(k.id)
                elif k.org == ctx.org and (k.owner == ctx.person or self.administers(ctx.person, k.org)):
                    may.add(k.id)
                    must.add(k.id)
            elif key.org is not None:
                if k.owner == key.owner and k.org == key.org and k.scopes <= ctx.scopes:
                    may.add(k.id)
                    must.add(k.id)
            elif k.owner == key.owner and k.scopes <= ctx.scopes:
                may.add(k.id)  # every org, never wider scopes than its own (a '*' secret by rotation)
        return may, must

    def visible_org_ids(self, ctx_or_caller: Ctx | Caller) -> set[str]:
        """Org public ids a response to this caller may mention."""
        caller = ctx_or_caller.caller if isinstance(ctx_or_caller, Ctx) else ctx_or_caller
        if caller.via_key:
            key = self.keys[caller.key_id]  # type: ignore[index]
            if key.org is not None:
                return {key.org}
            return {o for o, t in self.orgs.items() if t == key.tenant}
        return set(self.reachable_orgs(caller.person))

    def caller_tenants(self, caller: Caller) -> set[str]:
        if caller.via_key:
            return {self.keys[caller.key_id].tenant}  # type: ignore[index]
        return self.person_tenants(caller.person)

    def tenant_markers(self, tenant: str) -> set[str]:
        """Strings that identify objects of one tenant: its id, its orgs' and keys' public
        ids, and the emails of people who belong to it and to no other tenant."""
        out = {tenant}
        out |= {o for o, t in self.orgs.items() if t == tenant}
        out |= {k.id for k in self.keys.values() if k.tenant == tenant}
        for person in self.people.values():
            if self.person_tenants(person.name) == {tenant}:
                out.add(person.email)
        return out

    # -- expectations per operation -----------------------------------------------------------

    def _ctx_for(
        self, caller: Caller, hint: str | None, types: frozenset[str], scope: str | None, *, org_required: bool = True
    ) -> Ctx | Expect:
        if caller.via_key:
            key = self.keys[caller.key_id]  # type: ignore[index]
            if not self.key_usable(key, caller.secret):  # type: ignore[arg-type]
                # SPEC §3: 401 (revoked, inactive, unknown secret) or 403 IP_NOT_ALLOWED.
                return Expect.fail(
                    f"key {key.id} is not usable (revoked, inactive, rotated out or IP)",
                    kind="auth",
                    status=frozenset({401, 403}),
                )
            if key.type not in types:
                return Expect.fail(f"{key.type} key not admitted on this endpoint", kind="type", status=403)
        ctx = self.resolve(caller, hint, org_required=org_required)
        if isinstance(ctx, str):
            return Expect.fail(ctx, kind="org")
        if scope is not None and scope not in ctx.scopes:
            return Expect.fail(
                f"{caller.label()} lacks {scope} (has {sorted(ctx.scopes)})", kind="scope", ctx=ctx, status=403
            )
        return ctx

    def _unbound_key(self, caller: Caller) -> bool:
        return caller.via_key and self.keys[caller.key_id].org is None  # type: ignore[index]

    def expect_key_read(self, caller: Caller, hint: str | None) -> Expect:
        # An unbound key reaches all its owner's keys: no org hint is needed to list them.
        got = self._ctx_for(caller, hint, STANDARD_ONLY, "keys:read", org_required=not self._unbound_key(caller))
        return got if isinstance(got, Expect) else Expect(ctx=got)

    def expect_key_action(
        self, caller: Caller, hint: str | None, target: str | None, op: str, body: dict[str, object] | None = None
    ) -> Expect:
        """get / rotate / revoke / deactivate / activate / patch on a key id."""
        # The target names the key: an unbound key (which reaches all its owner's keys)
        # needs no org hint for it.
        got = self._ctx_for(
            caller,
            hint,
            STANDARD_ONLY,
            "keys:read" if op == "get" else "keys:write",
            org_required=not self._unbound_key(caller),
        )
        if isinstance(got, Expect):
            return got
        ctx = got
        body = body or {}
        unknown = set(body) - PATCHABLE if op == "patch" else set()
        body_ok = not unknown and ("scopes" not in body or valid_specs(body["scopes"]))  # type: ignore[arg-type]
        may, _ = self.key_reach(ctx)
        key = self.keys.get(target or "")
        if key is None or key.id not in may:
            # Out of reach is a 404 (never a hint that it exists); a body refused before
            # the lookup (400) says nothing about the target either, nor does the 401 an
            # unbound key gets on a write endpoint (SPEC §3, §4) before any lookup.
            statuses = {404} | ({401} if ctx.key is not None and ctx.key.org is None and op != "get" else set())
            return Expect.fail(
                f"key {target} is outside the reach of {caller.label()}",
                kind="reach",
                ctx=ctx,
                status=frozenset(statuses) if body_ok else None,
            )
        if unknown:
            return Expect.fail(
                f"PATCH with unknown/read-only fields {sorted(unknown)}", kind="input", ctx=ctx, status=400
            )
        if not body_ok:
            return Expect.fail("PATCH with invalid scopes", kind="input", ctx=ctx)
        if op == "rotate" and ctx.person != key.owner:
            return Expect.fail(f"rotate of {key.owner}'s key by {ctx.person}: secrets go only to owners", ctx=ctx)
        if op == "rotate" and key.revoked:
            return Expect.fail("rotate of a revoked key (revocation is final)", ctx=ctx)
        if op == "activate":
            if caller.via_key:
                return Expect.fail("activate through an API key (it loosens)", ctx=ctx)
            if ctx.person != key.owner:
                # Reactivating widens: admins deactivate, revoke and narrow, never widen (SPEC §2a).
                return Expect.fail(f"activate of {key.owner}'s key by {ctx.person}: only its owner", ctx=ctx)
            if key.revoked:
                return Expect.fail("activate of a revoked key (revocation is final)", ctx=ctx)
        if op == "patch":
            if "name" in body and str(body["name"]).strip() != key.name and ctx.person != key.owner:
                return Expect.fail(f"{key.owner}'s key renamed by {ctx.person}: only its owner", ctx=ctx)
            widening = self.patch_widening(key, body)
            if widening and (caller.via_key or ctx.person != key.owner):
                return Expect.fail(
                    f"widening {widening} of {key.owner}'s key by {caller.label()} (needs the owner's session)", ctx=ctx
                )
            if "scopes" in widening:
                new = expand(body["scopes"])  # type: ignore[arg-type]
                if not new <= self.key_role_scopes(key):
                    return Expect.fail(f"widening scopes to {sorted(new)}, beyond the owner's role", ctx=ctx)
            if "scopes" in body:
                new = expand(body["scopes"])  # type: ignore[arg-type]
                if key.type == "public" and not new <= READ:
                    return Expect.fail("write scopes on a public key", ctx=ctx)
                if key.type == "public" and not expand(s for s in body["scopes"] if s != "*:read") <= PUBLIC_CAP:  # type: ignore[attr-defined]
                    return Expect.fail("a public key given scopes it can never use (SPEC §2a)", ctx=ctx)
                if key.type == "agent" and not new <= AGENT_CAP:
                    return Expect.fail("an agent key given scopes it can never use (SPEC §2)", ctx=ctx)
            if key.revoked and set(body) - {"name"}:
                return Expect.fail("restriction change on a revoked key", ctx=ctx)
        return Expect(ctx=ctx)

    def patch_widening(self, key: Key, body: dict[str, object]) -> list[str]:
        """The fields of a PATCH body that loosen the key (SPEC §2a "keys only narrow")."""
        out = []
        if "scopes" in body and valid_specs(body["scopes"]):  # type: ignore[arg-type]
            if not expand(body["scopes"]) <= key.scopes:  # type: ignore[arg-type]
                out.append("scopes")
        if "allowed_ips" in body:
            new = [ipaddress.ip_network(n) for n in body["allowed_ips"]]  # type: ignore[attr-defined]
            old = [ipaddress.ip_network(n) for n in key.allowed_ips]
            if old and (not new or not all(any(n.subnet_of(o) for o in old if n.version == o.version) for n in new)):
                out.append("allowed_ips")
        if "expires_at" in body:
            new_exp = body["expires_at"]
            if key.expires_at is not None and (new_exp is None or new_exp > key.expires_at):  # type: ignore[operator]
                out.append("expires_at")
        if "rate_limit" in body:
            old_rate, new_rate = rate_per_second(key.rate_limit), rate_per_second(body["rate_limit"])  # type: ignore[arg-type]
            if old_rate is not None and (new_rate is None or new_rate > old_rate):
                out.append("rate_limit")
        return out

    def expect_key_create(
        self, caller: Caller, hint: str | None, body: dict[str, object]
    ) -> tuple[Expect, frozenset[str]]:
        """(expectation, the scopes the new key may hold at most)."""
        key_type = body.get("type", "standard")
        unbound = bool(body.get("unbound", False))
        # An unbound key belongs to no org: a tenant owner's session needs no org hint for it.
        got = self._ctx_for(
            caller, hint, STANDARD_ONLY, "keys:write", org_required=not (unbound and not caller.via_key)
        )
        if isinstance(got, Expect):
            return got, frozenset()
        ctx = got
        if unbound:
            if caller.via_key:
                return Expect.fail("unbound key requested through an API key", ctx=ctx), frozenset()
            if not self.is_tenant_owner(ctx.person, ctx.tenant):
                return Expect.fail(f"unbound key requested by non-owner {ctx.person}", ctx=ctx), frozenset()
            if key_type != "standard":
                return Expect.fail(f"unbound {key_type} key", ctx=ctx), frozenset()
            allowed = ALL
        else:
            if ctx.org is None:
                return Expect.fail("org-bound key without an org", ctx=ctx), frozenset()
            allowed = self.role_scopes(ctx.person, ctx.org)
        if caller.via_key:
            allowed &= ctx.scopes
        if key_type == "public":
            allowed &= READ
        if "scopes" in body:
            specs = body["scopes"]
            if not valid_specs(specs):  # type: ignore[arg-type]
                return Expect.fail("invalid scopes", ctx=ctx), allowed
            requested = expand(specs)  # type: ignore[arg-type]
            if key_type == "public" and not expand(s for s in specs if s != "*:read") <= PUBLIC_CAP:  # type: ignore[union-attr]
                return Expect.fail("a public key asked for scopes it can never use (SPEC §2a)", ctx=ctx), allowed
            if key_type == "agent" and not requested <= AGENT_CAP:
                return Expect.fail("an agent key asked for scopes it can never use (SPEC §2)", ctx=ctx), allowed
            if not requested <= allowed:
                return Expect.fail(
                    f"scopes {sorted(requested - allowed)} beyond what {caller.label()} may grant", ctx=ctx
                ), allowed
        return Expect(ctx=ctx), allowed

    def expect_member_op(
        self, caller: Caller, org: str, op: str, *, target: str | None = None, body: dict[str, object] | None = None
    ) -> Expect:
        """list / add / patch / remove members of ``org`` (the path's org is the hint)."""
        scope = "members:read" if op == "list" else "members:write"
        got = self._ctx_for(caller, org if org in self.orgs else "org-unknown", STANDARD_ONLY, scope)
        if isinstance(got, Expect):
            if got.kind == "org":  # the path's org is out of reach: a 404
                got.status = frozenset({404})
            return got
        ctx = got
        if op == "list":
            return Expect(ctx=ctx)
        rank = self.rank(ctx.person, org)
        if rank < ORG_RANK["admin"]:
            return Expect.fail(f"{ctx.person} (rank {rank}) does not administer {self.org_label(org)}", ctx=ctx)
        body = body or {}
        if op == "add":
            unknown = set(body) - {"email", "role"}
            if unknown:
                return Expect.fail(
                    f"member POST with unknown fields {sorted(unknown)}", kind="input", ctx=ctx, status=400
                )
            role = body.get("role", "member")
            if role not in ORG_ROLES:
                return Expect.fail(f"invalid org role {role!r}", ctx=ctx)
            if ORG_RANK[role] > rank:  # type: ignore[index]
                return Expect.fail(f"{ctx.person} grants {role} above own rank", ctx=ctx)
            person = self.person_by_email(str(body.get("email")))
            if person is not None and person.verified and self.org_role(person.name, org):
                return Expect.fail("adding an existing member", ctx=ctx)
            return Expect(ctx=ctx)
        who = self.people.get(target or "")
        if who is None or not self.reaches_org(who.name, org):
            return Expect.fail(f"member {target} not in {self.org_label(org)}", kind="reach", ctx=ctx, status=404)
        if who.name != ctx.person and self.rank(who.name, org) > rank:
            return Expect.fail(f"{ctx.person} changes {who.name} who ranks above", ctx=ctx)
        tenant = self.tenant_of_org(org)
        last_owner = self.owners(tenant) == [who.name]
        if op == "remove":
            if last_owner:
                return Expect.fail("removing the last tenant owner", ctx=ctx)
            return Expect(ctx=ctx)
        unknown = set(body) - {"role", "tenant_role"}
        if unknown or not body:
            return Expect.fail(
                f"member PATCH with unknown fields {sorted(unknown)} or empty", kind="input", ctx=ctx, status=400
            )
        if "role" in body:
            if body["role"] not in ORG_ROLES:
                return Expect.fail(f"invalid org role {body['role']!r}", ctx=ctx)
            if ORG_RANK[body["role"]] > rank:  # type: ignore[index]
                return Expect.fail(f"{ctx.person} grants org role {body['role']} above own rank", ctx=ctx)
        if "tenant_role" in body:
            new = body["tenant_role"]
            if new is not None and new not in TENANT_ROLES:
                return Expect.fail(f"invalid tenant role {new!r}", ctx=ctx)
            if rank < TENANT_RANK["admin"]:
                return Expect.fail(f"{ctx.person} without a tenant role changes tenant roles", ctx=ctx)
            if new is not None and TENANT_RANK[new] > rank:  # type: ignore[index]
                return Expect.fail(f"{ctx.person} grants tenant {new} above own rank", ctx=ctx)
            if last_owner and new != "owner":
                return Expect.fail("demoting the last tenant owner", ctx=ctx)
        return Expect(ctx=ctx)

    # -- applying successful operations ---------------------------------------------------------

    def apply_patch(self, key: Key, body: dict[str, object]) -> None:
        if "scopes" in body:
            key.scopes = expand(body["scopes"])  # type: ignore[arg-type]
        if "allowed_ips" in body:
            key.allowed_ips = tuple(sorted(str(ipaddress.ip_network(n, strict=False)) for n in body["allowed_ips"]))  # type: ignore[attr-defined]
        if "expires_at" in body:
            key.expires_at = body["expires_at"]  # type: ignore[assignment]
        if "rate_limit" in body:
            key.rate_limit = str(body["rate_limit"])
        if "name" in body:
            key.name = str(body["name"])

    def patch_changes(self, key: Key, body: dict[str, object]) -> bool:
        """Would this PATCH change anything the audit log records?"""
        probe = Key(**{**key.__dict__, "secrets": dict(key.secrets)})
        self.apply_patch(probe, body)
        return (probe.scopes, probe.allowed_ips, probe.expires_at, probe.rate_limit, probe.name) != (
            key.scopes,
            key.allowed_ips,
            key.expires_at,
            key.rate_limit,
            key.name,
        )

    def apply_rotate(self, key: Key, new_secret: str, grace_seconds: int) -> None:
        current = [s for s, alive in key.secrets.items() if alive]
        # The newest live secret becomes "previous" (alive for the grace period); older die.
        for s in key.secrets:
            key.secrets[s] = False
        if grace_seconds > 0 and current:
            key.secrets[current[-1]] = True
        key.secrets[new_secret] = True

    def apply_member_patch(self, org: str, person: str, body: dict[str, object]) -> None:
        tenant = self.tenant_of_org(org)
        if "tenant_role" in body:
            if body["tenant_role"] is None:
                self.tenant_roles.pop((tenant, person), None)
            else:
                self.tenant_roles[(tenant, person)] = str(body["tenant_role"])
        if "role" in body:
            self.org_roles[(org, person)] = str(body["role"])

    def apply_member_remove(self, org: str, person: str) -> None:
        self.org_roles.pop((org, person), None)
        self.tenant_roles.pop((self.tenant_of_org(org), person), None)
