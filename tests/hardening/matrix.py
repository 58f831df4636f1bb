"""The access-matrix engine: endpoints from the URL conf, callers, targets, and the
expected outcome of every cell derived from the view's declarations and SPEC §1–§4.

The expectation model below is a deliberately independent restatement of the SPEC
(roles → scopes, key presets, org resolution) so that the matrix cross-checks the
implementation instead of replaying it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from tests.hardening.world import World

# --- SPEC §1–§2 restated ------------------------------------------------------------
RESOURCES = ("organizations", "members", "keys", "audit", "scans")
ALL = frozenset(f"{r}:{a}" for r in RESOURCES for a in ("read", "write"))
READ = frozenset(f"{r}:read" for r in RESOURCES)
TENANT_ROLE_SCOPES = {"owner": ALL, "admin": ALL}
ORG_ROLE_SCOPES = {
    "admin": ALL,
    "member": READ | {"scans:write", "keys:write"},  # read, write business data, own keys
    "viewer": READ - {"audit:read"},  # read only, no audit log
}
SAFE = ("GET", "HEAD", "OPTIONS")


def spec_expand(specs: list[str]) -> frozenset[str]:
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


# --- Endpoints ------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    params: tuple[str, ...]
    view: Any
    methods: tuple[str, ...]  # implemented, upper case, OPTIONS included

    def decl(self, attr: str, default: Any = None) -> Any:
        return getattr(self.view, attr, default)

    @property
    def authenticates(self) -> bool:
        return bool(self.decl("authentication_classes", [True]))


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(patterns: list[Any], prefix: str) -> list[tuple[str, URLPattern]]:
    out: list[tuple[str, URLPattern]] = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out.extend(_walk(p.url_patterns, route))
        else:
            out.append((route, p))
    return out


def api_endpoints(prefix: str = "api/v1/") -> list[Endpoint]:
    """Every named URL pattern under /api/v1/ and the HTTP methods its view implements."""
    found: dict[str, Endpoint] = {}
    for route, pattern in _walk(get_resolver().url_patterns, ""):
        if not route.startswith(prefix):
            continue
        callback = pattern.callback
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        actions = getattr(callback, "actions", None)
        if actions:
            methods = [m.upper() for m in actions]
        elif view is not None:
            methods = [m.upper() for m in view.http_method_names if m not in ("head", "options", "trace") and hasattr(view, m)]
        else:
            methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]  # a plain function view: probe all
        name = pattern.name or route
        found[name] = Endpoint(
            name=name, route="/" + route, params=tuple(_PARAM.findall(route)), view=view,
            methods=(*sorted(set(methods)), "OPTIONS"),
        )
    return sorted(found.values(), key=lambda e: e.route)


def per_method(value: Any, method: str, default: Any) -> Any:
    if isinstance(value, dict):
        if method in value:
            return value[method]
        if method in ("HEAD", "OPTIONS") and "GET" in value:
            return value["GET"]
        return default
    return value if value is not None else default


def declared_scope(ep: Endpoint, method: str) -> str | None:
    return per_method(ep.decl("required_scopes", {}), method, None)


def declared_key_types(ep: Endpoint, method: str) -> frozenset[str]:
    default = {"standard", "public"} if method in SAFE else {"standard"}
    return frozenset(per_method(ep.decl("allowed_key_types"), method, default))


# --- Callers -------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    name: str
    kind: str  # anon | session | key
    ident: str = ""  # users[...] for sessions, keys[...] for keys
    hint: str | None = None  # organizationId names this org: own | sibling | foreign
    hint_header: bool = False  # send the hint as X-Workspace-ID instead
    tenant_hint: str | None = None  # tenantId names this tenant: foreign


CALLERS: tuple[Caller, ...] = (
    Caller("anonymous", "anon"),
    Caller("session:tenant-owner", "session", "owner"),
    Caller("session:tenant-admin", "session", "tenant_admin"),
    Caller("session:org-admin", "session", "org_admin"),
    Caller("session:member", "session", "member"),
    Caller("session:viewer", "session", "viewer"),
    Caller("session:member+sibling-hint", "session", "member", hint="sibling"),
    Caller("session:owner+sibling-hint", "session", "owner", hint="sibling"),
    Caller("session:other-tenant-owner", "session", "other_owner"),
    Caller("session:other-tenant-member+hint-own", "session", "other_member", hint="own"),
    Caller("key:org-full", "key", "full"),
    Caller("key:org-full+hint-own", "key", "full", hint="own"),
    Caller("key:org-full+hint-sibling", "key", "full", hint="sibling"),
    Caller("key:org-full+header-foreign", "key", "full", hint="foreign", hint_header=True),
    Caller("key:org-full+tenantId-foreign", "key", "full", tenant_hint="foreign"),
    Caller("key:unbound", "key", "unbound"),
    Caller("key:unbound+hint-own", "key", "unbound", hint="own"),
    Caller("key:unbound+hint-foreign", "key", "unbound", hint="foreign"),
    Caller("key:read-only", "key", "read"),
    Caller("key:limited-scans-read", "key", "limited"),
    Caller("key:agent", "key", "agent"),
    Caller("key:public", "key", "public"),
    Caller("key:member-owned", "key", "member"),
    Caller("key:other-tenant", "key", "foreign"),
    Caller("key:other-tenant+hint-own", "key", "foreign", hint="own"),
    Caller("key:revoked", "key", "revoked"),
    Caller("key:expired", "key", "expired"),
    Caller("key:deactivated", "key", "inactive"),
)

SESSION_ORG = {"owner": "own", "tenant_admin": "own", "org_admin": "own", "member": "own", "viewer": "own",
               "other_owner": "foreign", "other_member": "foreign"}
DEAD = {"revoked": ("KEY_REVOKED", "API key has been revoked"), "expired": ("KEY_EXPIRED", "API key has expired"),
        "inactive": ("KEY_INACTIVE", "API key is deactivated")}


def user_roles(w: World, user: Any, org_where: str) -> tuple[str | None, str | None]:
    """(tenant role, org role) of a world user in one org, from the world's SPEC setup."""
    table = {
        "owner": ("owner", {}), "tenant_admin": ("admin", {}),
        "org_admin": (None, {"own": "admin"}), "member": (None, {"own": "member"}),
        "viewer": (None, {"own": "viewer"}), "sibling_member": (None, {"sibling": "member"}),
        "other_owner": (None, {}), "other_member": (None, {"foreign": "member"}),
    }
    name = next(n for n, u in w.users.items() if u.pk == user.pk)
    tenant_role, orgs = table[name]
    if name == "other_owner":
        return ("owner", None) if org_where == "foreign" else (None, None)
    if org_where == "foreign":
        return None, orgs.get("foreign")
    return tenant_role, orgs.get(org_where)


def role_scopes(roles: tuple[str | None, str | None]) -> frozenset[str]:
    tenant_role, org_role = roles
    return TENANT_ROLE_SCOPES.get(tenant_role or "", frozenset()) | ORG_ROLE_SCOPES.get(org_role or "", frozenset())


# --- Expectations --------------------------------------------------------------------
@dataclass
class Expect:
    statuses: frozenset[int]
    code: str | None = None  # the catalog error code for an error
    message: str | None = None
    why: str = ""

    @property
    def success(self) -> bool:
        return all(200 <= s < 300 for s in self.statuses)


def fail(status: int, code: str, why: str, message: str | None = None) -> Expect:
    return Expect(frozenset({status}), code, message, why)


@dataclass
class Ctx:
    """What the SPEC says about one caller on one endpoint+method, before the target."""

    world: World
    endpoint: Endpoint
    method: str
    caller: Caller
    user: Any = None
    tenant: str = ""  # "A" | "B"
    org: str | None = None  # resolved org: own | sibling | foreign | None
    scopes: frozenset[str] = frozenset()
    roles: tuple[str | None, str | None] = (None, None)
    key_binding: str | None = None  # org-bound key's org, None for unbound/session
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def via_key(self) -> bool:
        return self.caller.kind == "key"

    def reaches(self, where: str) -> bool:
        """Could this caller pick org ``where`` (as a hint)?"""
        if self.via_key:
            if self.key_binding is not None:
                return self.key_binding == where
            return (where == "foreign") == (self.tenant == "B")
        return role_scopes(user_roles(self.world, self.user, where)) != frozenset()

    @property
    def manages_all(self) -> bool:
        tenant_role, org_role = self.roles
        return bool(tenant_role) or org_role == "admin"


def _where_of_org(w: World, org_pk: int | None) -> str | None:
    for where in ("own", "sibling", "foreign"):
        if w.org(where).pk == org_pk:
            return where
    return None


def resolve(w: World, ep: Endpoint, method: str, caller: Caller, where: str | None = None) -> Ctx | Expect:
    """Authentication, key type, binding, org resolution and scope (SPEC §3 order).

    Views declaring ``org_in_path`` take the org from the path: it is the org hint, a
    different ``organizationId`` is a 400, and an unreachable org is a 404 (not a 403:
    the org is the addressed object, SPEC §1 "a foreign object is a 404")."""
    if ep.decl("org_in_path", False) and where is not None:
        if caller.kind == "key" and caller.ident in DEAD or caller.kind == "anon":
            return resolve(w, ep, method, caller)
        if caller.hint and caller.hint != where:
            return fail(400, "VALIDATION_ERROR", "org hint (parameter or header) contradicts the org in the path")
        from dataclasses import replace

        outcome = resolve(w, ep, method, replace(caller, hint=where, hint_header=True))
        if isinstance(outcome, Expect) and outcome.code == "WORKSPACE_ACCESS_DENIED":
            return fail(404, "NOT_FOUND", "org in the path outside the caller's reach")
        if isinstance(outcome, Ctx):
            outcome.caller = caller
        return outcome
    ctx = Ctx(world=w, endpoint=ep, method=method, caller=caller)
    org_required = ep.decl("org_required", True)
    if caller.kind == "anon":
        return fail(401, "UNAUTHORIZED", "no key, no session", "Missing API key")
    if caller.kind == "key":
        key = w.keys[caller.ident]
        if caller.ident in DEAD:
            code, message = DEAD[caller.ident]
            return fail(401, code, f"{caller.ident} key", message)
        if key.type not in declared_key_types(ep, method):
            return fail(403, "KEY_TYPE_NOT_ALLOWED", f"{key.type} key not admitted for {method}")
        ctx.tenant = "B" if key.tenant_id == w.other_tenant.pk else "A"
        ctx.user = key.owner
        if caller.tenant_hint and (caller.tenant_hint == "foreign") != (ctx.tenant == "B"):
            return fail(403, "WORKSPACE_ACCESS_DENIED", "tenantId names another tenant")
        binding = _where_of_org(w, key.organization_id)
        ctx.key_binding = binding
        if binding is None:
            mode = ep.decl("unbound_keys", "read")
            allowed = mode == "all" or (mode == "read" and method in SAFE)
            if org_required and not allowed:
                return fail(401, "UNAUTHORIZED", "unbound key on a write", "Unbound API key may not scope to a specific org")
            if caller.hint:
                if not ctx.reaches(caller.hint):
                    return fail(403, "WORKSPACE_ACCESS_DENIED", "hint outside the key's tenant")
                ctx.org = caller.hint
            elif org_required:
                return fail(400, "AMBIGUOUS_ORG", "unbound key, two orgs, no hint")
            # Unbound keys are an owner privilege: full role while the owner is a tenant owner.
            ctx.roles = user_roles(w, key.owner, "foreign" if ctx.tenant == "B" else "own")
            role = ALL if ctx.roles[0] == "owner" else frozenset()
        else:
            if caller.hint and caller.hint != binding:
                return fail(403, "WORKSPACE_ACCESS_DENIED", "hint names another org than the key's")
            ctx.org = binding
            ctx.roles = user_roles(w, key.owner, binding)
            role = role_scopes(ctx.roles)
        ctx.scopes = spec_expand(list(key.scopes)) & role
    else:
        ctx.user = w.users[caller.ident]
        ctx.tenant = "B" if caller.ident.startswith("other") else "A"
        if caller.hint:
            if not ctx.reaches(caller.hint):
                return fail(403, "WORKSPACE_ACCESS_DENIED", "hint names an org the user cannot reach")
            ctx.org = caller.hint
        else:
            ctx.org = SESSION_ORG[caller.ident]
        ctx.roles = user_roles(w, ctx.user, ctx.org)
        ctx.scopes = role_scopes(ctx.roles)
    scope = declared_scope(ep, method)
    if scope is not None and scope not in ctx.scopes:
        return fail(403, "PERMISSION_DENIED", f"lacks {scope}")
    return ctx


DEFAULT_SUCCESS = {"GET": {200}, "OPTIONS": {200}, "POST": {200, 201}, "PUT": {200}, "PATCH": {200}, "DELETE": {200, 204}}


@dataclass
class Entry:
    """How the matrix exercises one endpoint.

    ``target(world, where, ctx)`` returns the URL kwargs addressing an object in org
    ``where`` (own/sibling/foreign), creating it if needed; ``body`` maps a method to a
    minimal valid JSON body (or a callable of the ctx); ``object_scope`` is ``"org"``
    (objects are looked up inside the resolved org: a sibling-org object is a 404) or
    ``"reach"`` (the path names the org itself: any org the caller reaches);
    ``rule(ctx, where)`` returns an Expect for business rules the declarations cannot
    express (each one commented); ``landed(ctx, response)`` checks where a write went.
    """

    target: Callable[[World, str, Ctx], dict[str, Any]] | None = None
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    object_scope: str = "org"
    success: dict[str, set[int]] = field(default_factory=dict)
    rule: Callable[[Ctx, str | None], Expect | None] | None = None
    landed: Callable[[Ctx, Any], None] | None = None


def expect(ctx: Ctx, entry: Entry, where: str | None) -> Expect:
    """The outcome once the caller is through authentication and scope."""
    if where is not None and ctx.method != "OPTIONS":
        target_tenant = "B" if where == "foreign" else "A"
        if target_tenant != ctx.tenant:
            return fail(404, "NOT_FOUND", "object of another tenant")
        if entry.object_scope == "org" and where != ctx.org:
            return fail(404, "NOT_FOUND", "object of another org than the resolved one")
        if entry.object_scope == "reach" and not ctx.reaches(where):
            return Expect(frozenset({403, 404}), None, None, "org the caller cannot reach")
    if entry.rule is not None and ctx.method != "OPTIONS":  # OPTIONS answers metadata, no handler runs
        ruled = entry.rule(ctx, where)
        if ruled is not None:
            return ruled
    statuses = entry.success.get(ctx.method, DEFAULT_SUCCESS[ctx.method])
    return Expect(frozenset(statuses), None, None, "allowed")
