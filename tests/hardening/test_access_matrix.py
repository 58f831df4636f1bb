"""The access matrix (OWASP API1/API5: object- and function-level authorization).

Every URL pattern under /api/v1/ × every method its view implements × every caller of
``matrix.CALLERS`` × (for endpoints addressing an object) a target in the caller's own
org, the sibling org and the other tenant. The expected status comes from the view's
declarations (``required_scopes``, ``allowed_key_types``, ``org_required``,
``unbound_keys``) and the SPEC rules in ``matrix.resolve``/``matrix.expect``; the
REGISTRY below only says how to address objects and what a minimal valid body is.

A new endpoint fails ``test_every_api_endpoint_is_registered`` until it is registered
here (or exempted, with a reason).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys import keygen, usage
from apikeys.models import ApiKey
from tests.hardening import report
from tests.hardening.matrix import (
    CALLERS,
    Caller,
    Ctx,
    Endpoint,
    Entry,
    Expect,
    api_endpoints,
    expect,
    fail,
    resolve,
    role_scopes,
    user_roles,
)
from tests.hardening.world import World, build_world

# --- Target builders -------------------------------------------------------------------


def _object_owner(w: World, where: str, ctx: Ctx) -> Any:
    """The caller's own user when it works in that org (members see only their own keys),
    else the tenant's owner."""
    if ctx.user is not None and role_scopes(user_roles(w, ctx.user, where)):
        return ctx.user
    return w.users["other_owner"] if where == "foreign" else w.users["owner"]


def target_key(w: World, where: str, ctx: Ctx) -> dict[str, Any]:
    owner = _object_owner(w, where, ctx)
    memo = w.extra.setdefault("target_keys", {})
    if (where, owner.pk) not in memo:
        secret = keygen.generate("standard")
        memo[(where, owner.pk)] = ApiKey.objects.create(
            name=f"target {where}", tenant=w.tenant_of(where), organization=w.org(where), owner=owner, creator=owner,
            scopes=["scans:read"], digest=secret.digest, display_prefix=secret.display_prefix,
        )
    return {"key_id": memo[(where, owner.pk)].public_id}


def target_org(w: World, where: str, ctx: Ctx) -> dict[str, Any]:
    return {"org_id": w.org(where).public_id}


# The member addressed in each org: a viewer/member whom an org admin may manage.
MEMBER_IN = {"own": "viewer", "sibling": "sibling_member", "foreign": "other_member"}


def target_member(w: World, where: str, ctx: Ctx) -> dict[str, Any]:
    return {"org_id": w.org(where).public_id, "user_id": str(w.users[MEMBER_IN[where]].pk)}


def target_scan(w: World, where: str, ctx: Ctx) -> dict[str, Any]:
    from scans import services as scan_services

    memo = w.extra.setdefault("target_scans", {})
    if where not in memo:
        memo[where] = scan_services.scan_upload(
            organization=w.org(where), scanner="matrix", target=f"host.{where}", started_at=timezone.now(),
            findings=[{"title": "t", "severity": "low"}],
        )
    return {"scan_id": memo[where].public_id}


# --- Business rules the declarations cannot express -------------------------------------


def org_create_rule(ctx: Ctx, where: str | None) -> Expect | None:
    # Creating an organization is a tenant-level act: tenant owners/admins through a
    # session or an unbound key; an org-scoped key is confined to its org (SPEC §1–§2).
    if ctx.via_key and ctx.key_binding is not None:
        return fail(403, "PERMISSION_DENIED", "org-scoped key cannot create organizations")
    if ctx.roles[0] not in ("owner", "admin"):
        return fail(403, "PERMISSION_DENIED", "only tenant owners/admins create organizations")
    return None


def org_landed(ctx: Ctx, response: Any) -> None:
    from orgs.models import Organization

    data = response.json()
    org = Organization.objects.get(public_id=data["id"])
    tenant = ctx.world.other_tenant if ctx.tenant == "B" else ctx.world.tenant
    assert org.tenant_id == tenant.pk, "organization created in another tenant"
    assert data["tenant_id"] == tenant.public_id


def org_rename_rule(ctx: Ctx, where: str | None) -> Expect | None:
    # Renaming: tenant owners/admins and the org's admins (members:write is not enough).
    if ctx.roles[0] in ("owner", "admin") or ctx.roles[1] == "admin":
        return None
    return fail(403, "PERMISSION_DENIED", "only admins rename an organization")


def scan_landed(ctx: Ctx, response: Any) -> None:
    from scans.models import Scan

    data = response.json()
    scan = Scan.objects.get(public_id=data["id"])
    org = ctx.world.org(ctx.org or "own")
    assert scan.organization_id == org.pk, "scan stored outside the caller's org"
    assert scan.tenant_id == org.tenant_id, "scan stored in another tenant"
    assert data["organization_id"] == org.public_id


def member_add_landed(ctx: Ctx, response: Any) -> None:
    data = response.json()
    assert data["result"] in ("added", "invited")
    if data.get("invitation"):
        from orgs.models import Invitation

        invitation = Invitation.objects.get(email="matrix-invitee@example.com")
        assert invitation.organization_id == ctx.world.org(ctx.org or "own").pk, "invitation for another org"




def validate_rule(ctx: Ctx, where: str | None) -> Expect | None:
    # auth/validate validates a presented key: a session alone has nothing to validate.
    if not ctx.via_key:
        return fail(401, "UNAUTHORIZED", "session on the key validation endpoint")
    return None


def key_landed(ctx: Ctx, response: Any) -> None:
    data = response.json()
    row = ApiKey.objects.get(public_id=data["id"])
    org = ctx.world.org(ctx.org) if ctx.org else None
    assert row.organization_id == (org.pk if org else None), "key landed outside the caller's org"
    assert row.tenant_id == ctx.world.tenant_of(ctx.org or "own").pk, "key landed in another tenant"
    assert row.owner_id == ctx.user.pk, "key owned by someone else than the caller"
    assert data["organization_id"] == (org.public_id if org else None)


# --- The registry -----------------------------------------------------------------------
REGISTRY: dict[str, Entry] = {
    "api-auth-validate": Entry(rule=validate_rule),
    "api-keys": Entry(
        body={"POST": {"name": "matrix created", "scopes": ["scans:read"]}},
        success={"POST": {201}}, landed=key_landed,
    ),
    "api-key-detail": Entry(target=target_key, body={"PATCH": {"name": "renamed by matrix"}}),
    "api-key-revoke": Entry(target=target_key, body={"POST": {}}),
    "api-key-rotate": Entry(target=target_key, body={"POST": {"grace_period_seconds": 0}}),
    "api-key-deactivate": Entry(target=target_key, body={"POST": {}}),
    "api-key-activate": Entry(target=target_key, body={"POST": {}}),
    "api-key-usage": Entry(target=target_key),
    "api-organizations": Entry(
        body={"POST": {"name": "Matrix Org"}}, success={"POST": {201}},
        rule=lambda ctx, where: org_create_rule(ctx, where) if ctx.method == "POST" else None, landed=org_landed,
    ),
    "api-organization-detail": Entry(
        target=target_org, body={"PATCH": {"name": "Renamed by matrix"}},
        rule=lambda ctx, where: org_rename_rule(ctx, where) if ctx.method == "PATCH" else None,
    ),
    "api-members": Entry(
        target=target_org, body={"POST": {"email": "matrix-invitee@example.com", "role": "viewer"}},
        success={"POST": {201}}, landed=member_add_landed,
    ),
    "api-member-detail": Entry(target=target_member, body={"PATCH": {"role": "member"}, "DELETE": {}}, success={"DELETE": {204}}),
    "api-scans": Entry(),
    "api-scan-detail": Entry(target=target_scan),
    "api-scans-upload": Entry(
        body={"POST": {"scanner": "matrix", "target": "10.0.0.1", "started_at": "2026-01-01T00:00:00Z",
                       "findings": [{"title": "open port", "severity": "low"}]}},
        success={"POST": {201}}, landed=scan_landed,
    ),
    "api-audit-log": Entry(),
    "api-me": Entry(),
    # The same view without the trailing-slash-less name (unnamed route in accounts/api/urls.py).
    "api/v1/me/": Entry(),
}

# Endpoints outside the key/session model, reviewed one by one; each is still probed
# anonymously (no 5xx, catalog errors) by test_exempt_endpoints_answer_sanely.
EXEMPT: dict[str, str] = {
    "api-health": "open liveness probe: no authentication, no tenant data",
    "api-auth-login": "authenticates by email + password (credentials in the body), then sets a session",
    "api-auth-verify-2fa": "second step of the login: authenticates by the login token + OTP code",
    "api-auth-token": "credential exchange: authenticates by email + password (+ OTP), returns a new key",
    "api-auth-logout": "ends the caller's own session (session-only, AllowAny): no tenant data",
}

ENDPOINTS = api_endpoints()
WRITE = ("POST", "PUT", "PATCH", "DELETE")


def _how_to_register(ep: Endpoint) -> str:
    return (
        f"API endpoint {ep.name!r} ({ep.route}, methods {', '.join(ep.methods)}) is not covered by the access matrix. "
        f"Register it in tests/hardening/test_access_matrix.py: REGISTRY[{ep.name!r}] = Entry("
        + ("target=<builder returning the URL kwargs " + "/".join(ep.params) + " for an object in org own|sibling|foreign>, " if ep.params else "")
        + "body={<method>: <minimal valid JSON body>} for each write method, rule=<business rule if any>), "
        "or add it to EXEMPT with the reason it is not key/session-scoped."
    )


def test_every_api_endpoint_is_registered() -> None:
    assert ENDPOINTS, "no /api/v1/ endpoint found: the URL conf walk is broken"
    missing = [ep for ep in ENDPOINTS if ep.name not in REGISTRY and ep.name not in EXEMPT]
    assert not missing, "\n".join(_how_to_register(ep) for ep in missing)
    stale = sorted(set(REGISTRY) - {ep.name for ep in ENDPOINTS})
    assert not stale, f"registry entries for endpoints that no longer exist: {stale}"


def test_registered_writes_have_bodies() -> None:
    problems = []
    for ep in ENDPOINTS:
        entry = REGISTRY.get(ep.name)
        if entry is None:
            continue
        if ep.params and entry.target is None:
            problems.append(f"{ep.name}: has path parameters {ep.params} but no target builder")
        for method in ep.methods:
            if method in WRITE and method not in entry.body:
                problems.append(f"{ep.name}: no minimal body registered for {method}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_exempt_endpoints_answer_sanely(matrix_world: Any, api: APIClient) -> None:
    """Exempt endpoints, called anonymously with an empty body: never a 5xx, errors in
    the catalog format, and a 2xx body never carries tenant data."""
    w, _ = matrix_world
    problems = []
    for ep in ENDPOINTS:
        if ep.name not in EXEMPT:
            continue
        for method in ep.methods:
            if method == "OPTIONS":
                continue
            if method in WRITE:
                response = getattr(api, method.lower())(ep.route, data="{}", content_type="application/json")
            else:
                response = getattr(api, method.lower())(ep.route)
            report.record(ep.name, method, "anonymous", None, response.status_code, None)
            data = response.json() if response.content else {}
            if response.status_code >= 500:
                problems.append(f"{ep.name} {method}: {response.status_code}")
            elif response.status_code >= 400 and not (isinstance(data, dict) and {"error", "message"} <= set(data)):
                problems.append(f"{ep.name} {method}: error body not in the catalog format: {data}")
            elif response.status_code < 300 and any(m in response.content.decode() for m in _foreign_markers(w, "A") + _foreign_markers(w, "B")):
                problems.append(f"{ep.name} {method}: 2xx with tenant data")
    assert api.get("/api/v1/health").status_code == 200
    assert not problems, problems


# --- Running one case ---------------------------------------------------------------------


class Clients:
    """One client per caller for a test: sessions log in once, keys set their header."""

    def __init__(self, w: World) -> None:
        self.w = w
        self._clients: dict[str, APIClient] = {}

    def get(self, caller: Caller) -> APIClient:
        if caller.name in self._clients:
            return self._clients[caller.name]
        client = APIClient()
        if caller.kind == "session":
            user = self.w.users[caller.ident]
            client.force_login(user)
            session = client.session
            org = self.w.other_org if caller.ident.startswith("other") else self.w.org1
            session["current_org_id"] = org.public_id  # what the UI's org switcher stores
            session.save()
        elif caller.kind == "key":
            client.credentials(HTTP_X_API_KEY=self.w.raw[caller.ident])
        self._clients[caller.name] = client
        return client


def _path(ep: Endpoint, kwargs: dict[str, Any]) -> str:
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), ep.route)


def _foreign_markers(w: World, tenant: str) -> list[str]:
    """Identifiers of the tenant the caller is NOT in: none may appear in a 2xx body."""
    if tenant == "A":
        tenant_obj, orgs, users = w.other_tenant, [w.other_org], ["other_owner", "other_member"]
    else:
        tenant_obj, orgs, users = w.tenant, [w.org1, w.org2], [n for n in w.users if not n.startswith("other")]
    keys = ApiKey.objects.filter(tenant=tenant_obj).values_list("public_id", flat=True)
    return [tenant_obj.public_id, *(o.public_id for o in orgs), *(w.users[u].email for u in users), *keys]


def run_case(w: World, clients: Clients, ep: Endpoint, entry: Entry, method: str, caller: Caller, where: str | None) -> str | None:
    """Run one cell; returns a description of the mismatch, or None."""
    resolved = resolve(w, ep, method, caller, where)
    if isinstance(resolved, Expect):
        want, ctx = resolved, None
        probe = Ctx(world=w, endpoint=ep, method=method, caller=caller)
        if caller.kind != "anon":
            probe.user = w.keys[caller.ident].owner if caller.kind == "key" else w.users[caller.ident]
    else:
        ctx = probe = resolved
        want = expect(ctx, entry, where)
    kwargs = entry.target(w, where, probe) if (entry.target and where) else {}
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if caller.hint:
        org_id = w.org(caller.hint).public_id
        if caller.hint_header:
            headers["HTTP_X_WORKSPACE_ID"] = org_id
        else:
            query["organizationId"] = org_id
    if caller.tenant_hint:
        query["tenantId"] = w.tenant_of(caller.tenant_hint).public_id
    extra_query = entry.query.get(method, {})
    query.update(extra_query(w) if callable(extra_query) else extra_query)
    body = entry.body.get(method)
    if callable(body):
        body = body(w, probe)
    path = _path(ep, kwargs)
    if query:
        from urllib.parse import urlencode

        path = f"{path}?{urlencode(query)}"
    client = clients.get(caller)
    cache.clear()
    usage.reset_local_memo()
    with transaction.atomic():
        call = getattr(client, method.lower())
        if method in WRITE:
            response = call(path, data=json.dumps(body if body is not None else {}), content_type="application/json", **headers)
        else:
            response = call(path, **headers)
        problem = _check(w, ctx, entry, method, caller, want, response)
        transaction.set_rollback(True)
    report.record(ep.name, method, caller.name, where, response.status_code, problem)
    return problem


def _check(w: World, ctx: Ctx | None, entry: Entry, method: str, caller: Caller, want: Expect, response: Any) -> str | None:
    status = response.status_code
    try:
        data = response.json() if response.content else None
    except ValueError:
        data = None
    got = f"{status} {data.get('error') if isinstance(data, dict) else ''}".strip()
    if status >= 500:
        return f"server error {got} (expected {sorted(want.statuses)} {want.code or ''}: {want.why})"
    if status not in want.statuses:
        return f"got {got}, expected {sorted(want.statuses)} {want.code or ''} ({want.why})"
    if not (200 <= status < 300):
        if not (isinstance(data, dict) and isinstance(data.get("error"), str) and isinstance(data.get("message"), str)):
            return f"error body not in the catalog format: {response.content[:200]!r}"
        if want.code and data["error"] != want.code:
            return f"got {got}, expected error {want.code} ({want.why})"
        if want.message and data["message"] != want.message:
            return f"message {data['message']!r}, expected {want.message!r}"
        return None
    text = response.content.decode(errors="replace")
    leaked = [marker for marker in _foreign_markers(w, ctx.tenant if ctx else "A") if marker and marker in text]
    if leaked:
        return f"2xx body carries another tenant's data: {leaked[:3]}"
    if method in WRITE and entry.landed is not None and ctx is not None:
        try:
            entry.landed(ctx, response)
        except AssertionError as exc:
            return f"write landed wrongly: {exc}"
    return None


def _cases() -> list[Any]:
    params = []
    for ep in ENDPOINTS:
        if ep.name in EXEMPT:
            continue
        for method in ep.methods:
            params.append(pytest.param(ep, method, id=f"{ep.name}-{method}"))
    return params


@pytest.fixture(scope="module")
def matrix_world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One population for the whole module, built inside a transaction that is rolled
    back at the end (as Django's TestCase.setUpClass does); each test's own transaction
    and each case's savepoint nest inside it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = build_world()
            clients = Clients(w)
            for caller in CALLERS:  # sessions must be created here, outside any test's transaction
                clients.get(caller)
            yield w, clients
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.mark.django_db
@pytest.mark.parametrize(("ep", "method"), _cases())
def test_access_matrix(matrix_world: Any, ep: Endpoint, method: str) -> None:
    entry = REGISTRY.get(ep.name)
    if entry is None:
        pytest.fail(_how_to_register(ep))
    if method in WRITE and method not in entry.body:
        pytest.fail(f"{ep.name}: register a minimal {method} body in REGISTRY[{ep.name!r}].body")
    w, clients = matrix_world
    w.extra.clear()  # objects built by target builders live in one test's transaction
    targets: list[str | None] = ["own", "sibling", "foreign"] if ep.params and method != "OPTIONS" else [None]
    if ep.params and method == "OPTIONS":
        targets = ["own"]
    problems = []
    for caller in CALLERS:
        for where in targets:
            problem = run_case(w, clients, ep, entry, method, caller, where)
            if problem:
                problems.append(f"  {caller.name:<40} target={where or '-':<8} {problem}")
    assert not problems, f"{ep.name} {method} ({ep.route}): {len(problems)} cells differ from the SPEC\n" + "\n".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("ep", [e for e in ENDPOINTS if e.name not in EXEMPT], ids=lambda e: e.name)
def test_unimplemented_method_is_405(matrix_world: Any, ep: Endpoint) -> None:
    """A method the view does not implement answers 405 METHOD_NOT_ALLOWED in the catalog format."""
    method = next((m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in ep.methods), None)
    if method is None:
        pytest.skip("implements every method")
    entry = REGISTRY.get(ep.name) or Entry()
    w, clients = matrix_world
    w.extra.clear()
    caller = next(c for c in CALLERS if c.name == "key:org-full")
    ctx = Ctx(world=w, endpoint=ep, method=method, caller=caller, user=w.users["owner"], tenant="A", org="own")
    kwargs = entry.target(w, "own", ctx) if entry.target else {}
    client = clients.get(caller)
    response = getattr(client, method.lower())(_path(ep, kwargs), data="{}", content_type="application/json")
    report.record(ep.name, method, caller.name, "own", response.status_code, None)
    assert response.status_code == 405, response.content
    assert response.json()["error"] == "METHOD_NOT_ALLOWED"
