"""The access-matrix engine: API endpoints from the URL conf (for coverage only), and running
one cell of ``matrix_spec``: build its target, send the request, and check the answer and
the database against the expected outcome.

Expectations never come from here: ``matrix_spec`` states them from the SPEC. This module
only knows how to address objects, what a minimal body is, and what an allowed write
changes (a rename renames, a revoke revokes).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from orgs.models import Invitation, Organization, OrgMembership, TenantMembership
from scans.models import Scan
from scim.models import ScimToken
from tests.hardening import matrix_spec as spec
from tests.hardening.matrix_world import MatrixWorld, target_key
from tests.state import reset_shared_state

# --- Endpoints (coverage only) ---------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    route: str
    params: tuple[str, ...]
    methods: tuple[str, ...]  # implemented, upper case, OPTIONS included


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _walk(
    patterns: list[Any], prefix: str, urlconfs: tuple[str, ...] = ()
) -> list[tuple[str, URLPattern, tuple[str, ...]]]:
    """Every URL pattern with its full route and the URL confs it was included through."""
    out: list[tuple[str, URLPattern, tuple[str, ...]]] = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            conf = p.urlconf_name
            name = conf if isinstance(conf, str) else getattr(conf, "__name__", "")
            out.extend(_walk(p.url_patterns, route, (*urlconfs, name)))
        else:
            out.append((route, p, urlconfs))
    return out


def _endpoint(route: str, pattern: URLPattern) -> Endpoint:
    callback = pattern.callback
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    actions = getattr(callback, "actions", None)  # a DRF viewset route
    if actions:
        methods = [m.upper() for m in actions]
    elif view is not None:
        methods = [
            m.upper() for m in view.http_method_names if m not in ("head", "options", "trace") and hasattr(view, m)
        ]
    else:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]  # a plain function view: probe all
    return Endpoint(
        name=pattern.name or route,
        route="/" + route,
        params=tuple(_PARAM.findall(route)),
        methods=(*sorted(set(methods)), "OPTIONS"),
    )


def endpoints(select: Callable[[str, tuple[str, ...]], bool]) -> list[Endpoint]:
    """Every URL pattern ``select(route, urlconfs)`` admits and the HTTP methods its view implements."""
    found: dict[str, Endpoint] = {}
    for route, pattern, urlconfs in _walk(get_resolver().url_patterns, ""):
        if route.startswith("^") or not select(route, urlconfs):
            continue
        ep = _endpoint(route, pattern)
        found[ep.name] = ep
    return sorted(found.values(), key=lambda e: e.route)


def api_endpoints(prefix: str = "api/v1/") -> list[Endpoint]:
    """Every URL pattern under ``prefix`` and the HTTP methods its view implements."""
    return endpoints(lambda route, _: route.startswith(prefix))


def path_of(ep: Endpoint, kwargs: dict[str, Any]) -> str:
    return _PARAM.sub(lambda m: str(kwargs[m[1]]), ep.route)


# --- The database, as the matrix sees it -------------------------------------------------------


class KeyRow(NamedTuple):
    name: str
    type: str
    org: str | None
    owner: str
    perms: frozenset[str]
    allowed_ips: frozenset[str]
    expires_at: datetime | None
    rate_limit: str
    digest: str
    previous_digest: str | None
    is_active: bool
    revoked: bool


def _nets(values: list[str]) -> frozenset[str]:
    return frozenset(str(ipaddress.ip_network(v, strict=False)) for v in values)


_KEY_FIELDS = (
    "public_id",
    "name",
    "type",
    "organization__public_id",
    "owner__email",
    "scopes",
    "allowed_ips",
    "expires_at",
    "rate_limit",
    "digest",
    "previous_digest",
    "is_active",
    "revoked_at",
)


def _key_rows() -> dict[str, KeyRow]:
    rows = {}
    for (
        public_id,
        name,
        type_,
        org,
        owner,
        scopes,
        ips,
        expires_at,
        rate,
        digest,
        previous,
        active,
        revoked_at,
    ) in ApiKey.objects.values_list(*_KEY_FIELDS):
        rows[public_id] = KeyRow(
            name=name,
            type=type_,
            org=org,
            owner=owner,
            perms=spec.expand(list(scopes)),
            allowed_ips=_nets(ips or []),
            expires_at=expires_at,
            rate_limit=rate,
            digest=digest,
            previous_digest=previous or None,
            is_active=active,
            revoked=revoked_at is not None,
        )
    return rows


def snapshot() -> dict[str, Any]:
    """Everything an access decision could change (usage stamps such as last_used_at excluded)."""
    return {
        "keys": _key_rows(),
        "org_members": frozenset(OrgMembership.objects.values_list("organization__public_id", "user__email", "role")),
        "tenant_members": frozenset(TenantMembership.objects.values_list("tenant__public_id", "user__email", "role")),
        "invitations": frozenset(
            Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).values_list(
                "organization__public_id", "email", "role"
            )
        ),
        "orgs": frozenset(Organization.objects.values_list("public_id", "tenant__public_id", "name")),
        "scans": frozenset(Scan.objects.values_list("public_id", "organization__public_id")),
        "scim_tokens": frozenset(
            (public_id, tenant, name, revoked_at is not None)
            for public_id, tenant, name, revoked_at in ScimToken.objects.values_list(
                "public_id", "tenant__public_id", "name", "revoked_at"
            )
        ),
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    out = []
    for part in before:
        b, a = before[part], after[part]
        if b == a:
            continue
        if isinstance(b, dict):
            changed = [f"{k}: {b.get(k)} -> {a.get(k)}" for k in sorted(set(b) | set(a)) if b.get(k) != a.get(k)]
            out.append(f"{part}: " + "; ".join(changed))
        else:
            out.append(f"{part}: +{sorted(a - b)} -{sorted(b - a)}")
    return " | ".join(out)


# --- Secrets -----------------------------------------------------------------------------------
SECRET = re.compile(r"[a-z]+_[0-9a-f]{32}(?![0-9a-f])")


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- Clients -------------------------------------------------------------------------------------


class Clients:
    """One client per caller: sessions log in once (outside any test transaction)."""

    def __init__(self, w: MatrixWorld) -> None:
        self.w = w
        self._clients: dict[str, APIClient] = {}

    def get(self, caller: spec.Caller) -> APIClient:
        if caller.name not in self._clients:
            client = APIClient()
            if caller.kind == "session":
                client.force_login(self.w.users[caller.user])
                session = client.session
                # What the UI's org switcher stores: the session works in its home org.
                session["current_org_id"] = self.w.orgs[spec.HOME_ORG[caller.tenant]].public_id
                session.save()
            elif caller.kind == "key":
                client.credentials(HTTP_X_API_KEY=self.w.raw[caller.key])
            self._clients[caller.name] = client
        return self._clients[caller.name]


# --- One cell ------------------------------------------------------------------------------------

SCAN_BODY = {
    "scanner": "matrix",
    "target": "10.0.0.1",
    "started_at": "2026-01-01T00:00:00Z",
    "findings": [{"title": "open port", "severity": "low"}],
}
INVITEE = "matrix-invitee@example.test"
NEW_ORG = "Matrix Org"


@dataclass
class Prepared:
    path_kwargs: dict[str, Any]
    body: Any
    target_key: ApiKey | None = None
    member: tuple[str, str] | None = None  # (org label, user name)
    org: str | None = None  # org label the path names
    client: APIClient | None = None  # the calling key's own clone (relation "self")
    list_targets: dict[str, tuple[ApiKey, str]] | None = None  # keys.list: relation → (key, reach)


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _narrowed(target: ApiKey) -> dict[str, Any]:
    perms = spec.expand(list(target.scopes))
    return {
        "scopes": ["scans:read"] if "scans:read" in perms else list(target.scopes)[:1],
        "allowed_ips": ["127.0.0.1/32"],
        "expires_at": _iso((timezone.now() + timedelta(days=7)).replace(microsecond=0)),
        "rate_limit": "50/min",
    }


def _key_body(op: str, target: ApiKey) -> Any:
    return {
        "key.get": None,
        "key.usage": None,
        "key.rename": {"name": "renamed by matrix"},
        "key.narrow": _narrowed(target),
        "key.widen-scopes": {"scopes": [*target.scopes, spec.WIDER]},
        "key.drop-allowlist": {"allowed_ips": []},
        "key.remove-expiry": {"expires_at": None},
        "key.lift-rate-limit": {"rate_limit": ""},
        "key.unknown-field": {"name": "renamed by matrix", "is_active": False},
        "key.rotate": {"grace_period_seconds": 0},
        "key.revoke": {},
        "key.deactivate": {},
        "key.activate": {},
    }[op]


BODIES: dict[str, Any] = {
    "keys.create": {"name": "matrix created", "scopes": ["scans:read"]},
    "keys.create-full": {"name": "matrix created", "scopes": ["*"]},
    "keys.create-default": {"name": "matrix created"},
    "keys.create-unbound": {"name": "matrix created", "scopes": ["scans:read"], "unbound": True},
    "orgs.create": {"name": NEW_ORG},
    "org.rename": {"name": "Renamed by matrix"},
    "members.add": {"email": INVITEE, "role": "viewer"},
    "member.change-role": {"role": "viewer"},
    "member.change-higher": {"role": "viewer"},
    "member.grant-tenant-admin": {"tenant_role": "admin"},
    "member.grant-owner": {"tenant_role": "owner"},
    "member.remove": None,
    "member.remove-higher": None,
    "scans.upload": SCAN_BODY,
    "scans.upload-alias": SCAN_BODY,
    "scim-tokens.create": {"name": "matrix scim"},
    "scim-token.revoke": {},
}


def prepare(w: MatrixWorld, cell: spec.Cell) -> Prepared:
    """Build the cell's target inside its savepoint and say how to address it."""
    caller, op, relation = cell.caller, cell.op, cell.relation
    if op.group == spec.KEY:
        assert relation is not None
        target = spec.key_target(caller, relation)
        assert target is not None
        if target.is_caller:  # the calling key itself: a fresh copy, so no cell sees another's changes
            row, secret = target_key(w, target, key_type=caller.key_type)
            client = APIClient()
            client.credentials(HTTP_X_API_KEY=secret)
            return Prepared({"key_id": row.public_id}, _key_body(op.name, row), target_key=row, client=client)
        row, _ = target_key(w, target, active=op.name != "key.activate")
        return Prepared({"key_id": row.public_id}, _key_body(op.name, row), target_key=row)
    if op.name == "keys.list":
        built = {}
        for rel in spec.KEY_RELATIONS:
            target = spec.key_target(caller, rel)
            if target is None or target.is_caller:
                continue
            built[rel] = (target_key(w, target)[0], _reach_row(caller).get(rel, "."))
        return Prepared({}, None, list_targets=built)
    if op.group == spec.ORG_PATH:
        assert relation is not None
        if op.name in ("org.get", "org.rename", "members.list", "members.add"):
            org = spec.org_target(caller, relation)
            assert org is not None
            return Prepared({"org_id": w.orgs[org].public_id}, BODIES.get(op.name), org=org)
        if op.name in spec.INVITATION_OPS:
            org = spec.org_target(caller, relation)
            assert org is not None
            invitation = Invitation.objects.create(
                organization=w.orgs[org],
                email=INVITEE,
                role="viewer",
                token_digest=hashlib.sha256(f"matrix {org}".encode()).hexdigest(),
                expires_at=timezone.now() + timedelta(hours=72),
            )
            path = {"org_id": w.orgs[org].public_id, "invitation_id": invitation.public_id}
            return Prepared(path, None, org=org)
        member = spec.member_target(caller, relation)
        assert member is not None
        org, user = member
        return Prepared(
            {"org_id": w.orgs[org].public_id, "user_id": w.users[user].public_id},
            BODIES.get(op.name),
            member=member,
            org=org,
        )
    if op.name == "scim-token.revoke":
        assert relation is not None
        org = spec.org_target(caller, relation)
        assert org is not None
        token = w.scim_tokens[spec.ORG_TENANT[org]]
        return Prepared({"token_id": token.public_id}, {}, org=org)
    if op.name == "scan.get":
        assert relation is not None
        org = spec.org_target(caller, relation)
        assert org is not None
        return Prepared({"scan_id": w.scans[org].public_id}, None, org=org)
    return Prepared({}, BODIES.get(op.name))


def _reach_row(caller: spec.Caller) -> dict[str, str]:
    """The REACH row of a caller; a hinted variant of a key shares its key's row (callers
    refused before the list is read have none)."""
    return spec.REACH.get(caller.name) or spec.REACH.get(caller.name.split("@")[0], {})


def hint_params(w: MatrixWorld, caller: spec.Caller) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The org and tenant hints a caller sends: query parameters and headers."""
    query: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    if caller.hint:
        org_id = w.orgs[caller.hint].public_id
        if caller.hint_header:
            headers["HTTP_X_WORKSPACE_ID"] = org_id
        else:
            query.append(("organizationId", org_id))
    if caller.tenant_hint:
        query.append(("tenantId", w.tenants[caller.tenant_hint].public_id))
    return query, headers


@contextmanager
def rolled_back_population(
    blocker: Any, build: Callable[[], Any], make_clients: Callable[[Any], Any], callers: Any
) -> Iterator[tuple[Any, Any]]:
    """One population for a whole module, built inside a transaction rolled back at the end
    (as Django's TestCase.setUpClass does); each test's transaction and each cell's savepoint
    nest inside it. Sessions are created here, outside any test's transaction."""
    with blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = build()
            clients = make_clients(w)
            for caller in callers:
                clients.get(caller)
            yield w, clients
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def describe(status: int, code: str) -> str:
    return f"{status} {code}".strip()


def request(w: MatrixWorld, clients: Clients, ep: Endpoint, cell: spec.Cell, prep: Prepared) -> Any:
    caller, op = cell.caller, cell.op
    hints, headers = hint_params(w, caller)
    query = dict(hints)
    if op.name == "keys.list":
        query["limit"] = "200"
    path = path_of(ep, prep.path_kwargs)
    if query:
        path = f"{path}?{urlencode(query)}"
    client = prep.client or clients.get(caller)
    call = getattr(client, op.method.lower())
    if op.method in ("GET", "DELETE") or prep.body is None:
        return call(path, **headers)
    return call(path, data=json.dumps(prep.body), content_type="application/json", **headers)


def reset_between_cells() -> None:
    """Each cell runs in a rolled-back savepoint: drop what the app keeps outside the database
    (rate-limit and lockout counters, the verified-key memo) so no cell sees another's."""
    reset_shared_state()


def run_cell(w: MatrixWorld, clients: Clients, ep: Endpoint, cell: spec.Cell) -> tuple[int, str, list[str]]:
    """Run one cell in a savepoint that is rolled back; (status, error code, problems)."""
    reset_between_cells()
    with transaction.atomic():
        prep = prepare(w, cell)
        # Reads are not expected to change anything; writes are checked against a snapshot.
        before = snapshot() if cell.op.write else None
        response = request(w, clients, ep, cell, prep)
        after = snapshot() if cell.op.write else None
        problems = check(w, cell, prep, response, before, after)
        transaction.set_rollback(True)
    data = _json(response)
    code = data.get("error", "") if isinstance(data, dict) and isinstance(data.get("error"), str) else ""
    return response.status_code, code, problems


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


# --- Checks ---------------------------------------------------------------------------------------


def check(
    w: MatrixWorld,
    cell: spec.Cell,
    prep: Prepared,
    response: Any,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> list[str]:
    want = cell.outcome
    status, data = response.status_code, _json(response)
    text = response.content.decode(errors="replace")
    code = data.get("error") if isinstance(data, dict) else None
    problems: list[str] = []
    if status != want.status or (want.code and code != want.code):
        problems.append(
            f"got {status} {code or ''}".rstrip() + f", expected {want.status} {want.code}".rstrip() + f" ({want.why})"
        )
    if not want.ok:
        problems += _check_error(want, status, data)
    problems += _check_secret(w, cell, response, text, data)
    if status < 300:
        problems += _check_no_foreign_data(w, cell.caller, text)
    if before is None or after is None:
        return problems + (_check_answer(w, cell, prep, data) if want.ok and status == want.status else [])
    if want.ok and status == want.status:
        problems += _check_effect(w, cell, prep, data, before, after)
    elif before != after:
        problems.append(f"refused, yet the database changed: {diff(before, after)}")
    return problems


def _check_error(want: spec.Outcome, status: int, data: Any) -> list[str]:
    if status < 400:
        return []
    if not (isinstance(data, dict) and isinstance(data.get("error"), str) and isinstance(data.get("message"), str)):
        return [f"error body not in the catalog format: {str(data)[:200]}"]
    problems = []
    if want.message and data["message"] != want.message:
        problems.append(f"message {data['message']!r}, expected {want.message!r}")
    if want.message_has and want.message_has not in data["message"] + json.dumps(data.get("details")):
        problems.append(f"message {data['message']!r} does not name {want.message_has}")
    if status == want.status and data["error"] == want.code:
        details = data.get("details") or {}
        if want.scope and want.scope not in (details.get("required_permissions") or []):
            problems.append(f"PERMISSION_DENIED without details.required_permissions naming {want.scope}: {details}")
        if want.field_name and want.field_name not in json.dumps(details) + data["message"]:
            problems.append(f"VALIDATION_ERROR does not name {want.field_name}: {data}")
    return problems


def _check_secret(w: MatrixWorld, cell: spec.Cell, response: Any, text: str, data: Any) -> list[str]:
    found = set(SECRET.findall(text)) | {s for s in w.raw.values() if s in text}
    want = cell.outcome
    if not (want.secret and want.ok and response.status_code == want.status):
        return [f"a key secret in the body of a {response.status_code}: {sorted(found)[0][:10]}…"] if found else []
    problems = []
    scim = cell.op.group == spec.SCIM
    key = data.get("token" if scim else "key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not SECRET.fullmatch(key):
        return [f"no new secret in the answer: {str(data)[:200]}"]
    if found - {key}:
        problems.append("the answer carries another secret besides the new one")
    if "no-store" not in response.get("Cache-Control", ""):
        problems.append("a secret-bearing answer without Cache-Control: no-store")
    if scim:
        if not ScimToken.objects.filter(public_id=data.get("id"), digest=digest_of(key)).exists():
            problems.append("the secret returned is not the stored SCIM token's (or is stored unhashed)")
        return problems
    row = _key_rows().get(data.get("id"))
    if row is None or row.digest != digest_of(key):
        problems.append("the secret returned is not the stored key's")
    # Secrets go only to owners: the key's owner is the caller.
    if row is not None and row.owner != w.users[cell.caller.user].email:
        problems.append(f"secret of {row.owner}'s key handed to {cell.caller.user}")
    return problems


def _foreign_markers(w: MatrixWorld, tenant: str) -> list[str]:
    other = "B" if tenant == "A" else "A"
    tenant_obj = w.tenants[other]
    orgs = [o.public_id for label, o in w.orgs.items() if spec.ORG_TENANT[label] == other]
    emails = [w.users[n].email for n, (t, _, _) in spec.USERS.items() if t == other]
    keys = list(ApiKey.objects.filter(tenant=tenant_obj).values_list("public_id", flat=True))
    scim = list(ScimToken.objects.filter(tenant=tenant_obj).values_list("public_id", flat=True))
    return [tenant_obj.public_id, *orgs, *emails, *keys, *scim]


def _check_no_foreign_data(w: MatrixWorld, caller: spec.Caller, text: str) -> list[str]:
    leaked = [m for m in _foreign_markers(w, caller.tenant) if m in text]
    return [f"2xx body carries the other tenant's data: {leaked[:3]}"] if leaked else []


def _expected_after(
    w: MatrixWorld, cell: spec.Cell, prep: Prepared, data: Any, before: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The database after an allowed operation, from the one before; and problems found on the way."""
    op, caller = cell.op, cell.caller
    want = {k: (dict(v) if isinstance(v, dict) else v) for k, v in before.items()}
    problems: list[str] = []
    if op.group == spec.KEY and op.write:
        assert prep.target_key is not None
        key_id = prep.target_key.public_id
        row: KeyRow = want["keys"][key_id]
        body = prep.body or {}
        if op.name == "key.rename":
            row = row._replace(name=body["name"])
        elif op.name in (
            "key.narrow",
            "key.widen-scopes",
            "key.drop-allowlist",
            "key.remove-expiry",
            "key.lift-rate-limit",
        ):
            if "scopes" in body:
                row = row._replace(perms=spec.expand(body["scopes"]))
            if "allowed_ips" in body:
                row = row._replace(allowed_ips=_nets(body["allowed_ips"]))
            if "expires_at" in body:
                value = body["expires_at"]
                row = row._replace(expires_at=datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None)
            if "rate_limit" in body:
                row = row._replace(rate_limit=body["rate_limit"])
        elif op.name == "key.rotate":
            secret = data.get("key", "") if isinstance(data, dict) else ""
            row = row._replace(digest=digest_of(secret), previous_digest=row.digest)
        elif op.name == "key.revoke":
            row = row._replace(revoked=True)
        elif op.name in ("key.deactivate", "key.activate"):
            row = row._replace(is_active=op.name == "key.activate")
        want["keys"][key_id] = row
    elif op.group == spec.KEYS_CREATE:
        new_id = data.get("id") if isinstance(data, dict) else None
        org = None if op.name == "keys.create-unbound" else caller.resolved_org()
        requested = {
            "keys.create": spec.expand(["scans:read"]),
            "keys.create-full": spec.ALL,
            "keys.create-unbound": spec.expand(["scans:read"]),
        }.get(op.name, caller.perms(org))
        created = _key_rows().get(new_id)
        if created is None:
            problems.append(f"no stored key for the created id {new_id!r}")
        else:
            expected = created._replace(
                name="matrix created",
                type="standard",
                org=w.orgs[org].public_id if org else None,
                owner=w.users[caller.user].email,
                perms=requested,
            )
            if created != expected:
                problems.append(f"created key {created} differs from the request's {expected}")
            want["keys"][new_id] = created
    elif op.name == "orgs.create":
        new_id = data.get("id") if isinstance(data, dict) else None
        want["orgs"] = want["orgs"] | {(new_id, w.tenants[caller.tenant].public_id, NEW_ORG)}
    elif op.name == "org.rename":
        assert prep.org is not None
        org = w.orgs[prep.org]
        want["orgs"] = (want["orgs"] - {(org.public_id, org.tenant.public_id, org.name)}) | {
            (org.public_id, org.tenant.public_id, prep.body["name"])
        }
    elif op.name == "members.add":
        assert prep.org is not None
        want["invitations"] = want["invitations"] | {(w.orgs[prep.org].public_id, INVITEE, "viewer")}
    elif op.name == "invitation.revoke":
        assert prep.org is not None
        want["invitations"] = want["invitations"] - {(w.orgs[prep.org].public_id, INVITEE, "viewer")}
    elif op.name == "invitation.resend":
        pass  # a new link and expiry: the same pending invitation
    elif op.group == spec.ORG_PATH and op.write:
        assert prep.member is not None
        org_label, user_name = prep.member
        org, email = w.orgs[org_label], w.users[user_name].email
        current = {m for m in want["org_members"] if m[0] == org.public_id and m[1] == email}
        if op.method == "DELETE":
            want["org_members"] = want["org_members"] - current
        elif "role" in (prep.body or {}):
            want["org_members"] = (want["org_members"] - current) | {(org.public_id, email, prep.body["role"])}
        else:
            tenant_id = org.tenant.public_id
            current_tenant = {m for m in want["tenant_members"] if m[0] == tenant_id and m[1] == email}
            want["tenant_members"] = (want["tenant_members"] - current_tenant) | {
                (tenant_id, email, prep.body["tenant_role"])
            }
    elif op.name == "scim-tokens.create":
        new_id = data.get("id") if isinstance(data, dict) else None
        want["scim_tokens"] = want["scim_tokens"] | {(new_id, w.tenants[caller.tenant].public_id, "matrix scim", False)}
    elif op.name == "scim-token.revoke":
        assert prep.org is not None
        token = w.scim_tokens[spec.ORG_TENANT[prep.org]]
        entry = (token.public_id, token.tenant.public_id, token.name)
        want["scim_tokens"] = (want["scim_tokens"] - {(*entry, False)}) | {(*entry, True)}
    elif op.group == spec.UPLOAD:
        new_id = data.get("id") if isinstance(data, dict) else None
        org = caller.resolved_org()
        want["scans"] = want["scans"] | {(new_id, w.orgs[org].public_id if org else None)}
    return want, problems


def _check_effect(
    w: MatrixWorld, cell: spec.Cell, prep: Prepared, data: Any, before: dict[str, Any], after: dict[str, Any]
) -> list[str]:
    want, problems = _expected_after(w, cell, prep, data, before)
    if after != want:
        problems.append(f"the database is not what the operation implies: {diff(want, after)} (expected -> got)")
    return problems + _check_answer(w, cell, prep, data)


def _check_answer(w: MatrixWorld, cell: spec.Cell, prep: Prepared, data: Any) -> list[str]:
    """What an allowed read answers: the object asked for, or exactly the reachable ones."""
    op, caller = cell.op, cell.caller
    if not isinstance(data, dict):
        return [] if op.method == "DELETE" else [f"2xx without a JSON object: {str(data)[:100]}"]
    if op.name == "key.get" and prep.target_key is not None and data.get("id") != prep.target_key.public_id:
        return [f"answered key {data.get('id')}, asked {prep.target_key.public_id}"]
    if op.name == "keys.list":
        assert prep.list_targets is not None
        listed = {k.get("id") for k in data.get("keys", [])}
        org = caller.resolved_org()
        problems = []
        for rel, (row, reach) in prep.list_targets.items():
            if row.public_id in listed and reach != "Y":
                problems.append(f"lists the {rel} key, outside its reach")
            if row.public_id not in listed and reach == "Y" and org and row.organization_id == w.orgs[org].pk:
                problems.append(f"does not list the {rel} key it reaches")
        return problems
    if op.name == "orgs.list":
        listed = {o.get("id") for o in data.get("organizations", [])}
        if caller.kind == "session":
            reachable = {label for label in spec.ORG_TENANT if spec.roles_in(caller.user, label)}
        elif caller.unbound:
            reachable = {label for label, t in spec.ORG_TENANT.items() if t == caller.tenant}
        else:
            reachable = {caller.binding}
        want = {w.orgs[label].public_id for label in reachable if label}
        if listed != want:
            return [f"lists organizations {sorted(listed)}, reachable {sorted(want)}"]
    if op.name in ("org.get", "scan.get") and prep.org is not None:
        wanted = w.orgs[prep.org].public_id if op.name == "org.get" else w.scans[prep.org].public_id
        if data.get("id") != wanted:
            return [f"answered {data.get('id')}, asked {wanted}"]
    if op.name == "member.get" and prep.member is not None and data.get("user_id") != w.users[prep.member[1]].public_id:
        return [f"answered member {data.get('user_id')}"]
    if op.name == "scim-tokens.list":
        listed = {t.get("id") for t in data.get("tokens", [])}
        if w.scim_tokens[caller.tenant].public_id not in listed:
            return ["does not list its tenant's SCIM token"]
    if op.name == "validate" and data.get("id") != w.keys[caller.key].public_id:
        return [f"validate answered {data.get('id')} for {caller.key}"]
    return []


__all__ = ["Clients", "Endpoint", "api_endpoints", "endpoints", "path_of", "reset_between_cells", "run_cell"]
