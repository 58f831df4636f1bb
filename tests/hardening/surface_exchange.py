"""Taffy's ``POST /auth/token`` (SPEC §5a): the credential exchange, walked by the people whose
email and password might be sent, and by credentials that are no email + password.

SPEC §5 ("credential exchange for scripts: email + password (+ OTP code when the user has
2FA) → a new API key; owner-only unless the tenant allows more"), §2 ("a key can never be
created ... with more than its creator has"), §2a ("a create without scopes gets the caller's
own effective permissions"; "unknown ... fields in a body are a 400 VALIDATION_ERROR, never
ignored"), §4 (the org: the one named, else the only one reachable, else AMBIGUOUS_ORG) and
§13 (a deactivated account's credentials stop working) decide ``expect``; Taffy's shape is
``{"errors": [...], "data": ...}``, a success a 200 with the key and the header to send it in.
Nothing here is imported from the application.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from rest_framework.test import APIClient

from orgs.models import Tenant
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD
from tests.hardening import matrix_spec as spec
from tests.hardening import surface_spec as sspec
from tests.hardening.matrix import SECRET, _check_no_foreign_data, _json, _key_rows, diff, digest_of, snapshot
from tests.hardening.matrix_spec import Outcome, ok
from tests.hardening.matrix_world import MatrixWorld
from tests.hardening.surface_matrix import SurfaceClients, reset_between_cells

URL = "/auth/token"
# SPEC §5a (username, password, code) and §5 / the Taffy guide (organizationId, name, scopes).
ACCEPTED = frozenset({"username", "password", "code", "organizationId", "name", "scopes"})


@dataclass(frozen=True)
class Exchange:
    name: str
    user: str | None  # whose email goes in ``username`` (None: no credentials in the body)
    org: str | None = None  # organizationId
    right_password: bool = True
    extra: tuple[tuple[str, Any], ...] = ()  # other body fields
    alongside: str = ""  # a credential sent too: a matrix caller (a session or a key)
    setup: str = ""  # "2fa" (the user enrolled TOTP) | "require-2fa" (tenant policy) | "members" (exchange policy)

    @property
    def scopes(self) -> list[str] | None:
        return dict(self.extra).get("scopes")


EXCHANGES: tuple[Exchange, ...] = (
    Exchange("no-credentials", None),
    Exchange("owner-session-only", None, alongside="session:tenant-owner"),
    Exchange("owner-key-only", None, alongside="key:owner/*"),
    Exchange("owner@A1", "owner", "A1"),
    Exchange("owner@A1-narrow", "owner", "A1", extra=(("scopes", ["scans:read"]),)),
    Exchange("owner-no-org", "owner"),
    Exchange("owner@B1", "owner", "B1"),
    Exchange("owner-wrong-password", "owner", "A1", right_password=False),
    Exchange("owner-2fa-no-code", "owner", "A1", setup="2fa"),
    Exchange("owner-tenant-requires-2fa", "owner", "A1", setup="require-2fa"),
    Exchange("owner@A1+unbound", "owner", "A1", extra=(("unbound", True),)),
    Exchange("owner@A1+type-agent", "owner", "A1", extra=(("type", "agent"),)),
    Exchange("tenant-admin@A1", "tenant-admin", "A1"),
    Exchange("org-admin@A1", "org-admin", "A1"),
    Exchange("member@A1", "member", "A1"),
    Exchange("member@A1+owner-key", "member", "A1", alongside="key:owner/*"),
    Exchange("member@A1+owner-session", "member", "A1", alongside="session:tenant-owner"),
    Exchange("outsider", "outsider"),
    Exchange("outsider@A1", "outsider", "A1"),
    Exchange("departed", "departed"),
    Exchange("ex-owner@A1", "ex-owner", "A1"),
    Exchange("deactivated@A1", "deactivated", "A1"),
    Exchange("members-policy:member@A1", "member", "A1", setup="members"),
    Exchange("members-policy:member@A1+*", "member", "A1", extra=(("scopes", ["*"]),), setup="members"),
    Exchange("members-policy:viewer@A1", "viewer", "A1", setup="members"),
    Exchange("members-policy:member@A2", "member", "A2", setup="members"),
    Exchange("members-policy:deactivated@A1", "deactivated", "A1", setup="members"),
)


def expect(case: Exchange) -> Outcome:
    user = case.user
    if user is None:
        return Outcome(
            400, "VALIDATION_ERROR", field_name="username", why="username and password are the credentials here"
        )
    unknown = sorted({name for name, _ in case.extra} - ACCEPTED)
    if unknown:
        return Outcome(400, "VALIDATION_ERROR", field_name=unknown[0], why="unknown body field (SPEC §2a)")
    if not case.right_password or user in sspec.DEACTIVATED_USERS:
        return Outcome(401, "UNAUTHORIZED", why="wrong password, or a deactivated account")
    if case.setup == "2fa":
        return Outcome(401, "UNAUTHORIZED", why="the user has 2FA: no OTP code, no key")
    if case.setup == "require-2fa":
        return Outcome(403, "PERMISSION_DENIED", why="the tenant requires 2FA and the user has none (SPEC §8)")
    reachable = sorted(label for label in spec.ORG_TENANT if spec.roles_in(user, label))
    if case.org is not None and case.org not in reachable:
        return Outcome(403, "WORKSPACE_ACCESS_DENIED", why="organizationId names an org the user cannot reach")
    if case.org is None and not reachable:
        return Outcome(403, "WORKSPACE_ACCESS_DENIED", why="the user reaches no organization")
    if case.org is None and len(reachable) > 1:
        return Outcome(400, "AMBIGUOUS_ORG", why="several orgs reachable, none named (SPEC §4)")
    org = case.org or reachable[0]
    perms = spec.perms_in(user, org)
    if case.setup == "members":  # the tenant admits everyone who may write keys
        allowed = "keys:write" in perms
    else:  # SPEC §5: owner-only unless the tenant allows more
        allowed = spec.is_tenant_owner(user)
    if not allowed:
        return Outcome(403, "PERMISSION_DENIED", why="the tenant's exchange policy does not admit this role")
    if case.scopes is not None and not spec.expand(case.scopes) <= perms:
        return Outcome(403, "PERMISSION_DENIED", why="a key never gets more than its creator has (SPEC §2)")
    return ok(200, why="a new key of the user's in the org, shown once", secret=True)


def _org_of(case: Exchange) -> str:
    assert case.user is not None
    return case.org or next(label for label in spec.ORG_TENANT if spec.roles_in(case.user, label))


def _client(w: MatrixWorld, clients: SurfaceClients, case: Exchange) -> APIClient:
    if case.alongside:
        return clients.get(sspec.CALLER[case.alongside])
    return APIClient()


def _setup(w: MatrixWorld, case: Exchange) -> None:
    tenant = w.tenants[spec.tenant_of(case.user)] if case.user else None
    if case.setup == "2fa":
        enrol(w.users[case.user])
    elif case.setup == "require-2fa":
        Tenant.objects.filter(pk=tenant.pk).update(require_2fa=True)  # type: ignore[union-attr]
    elif case.setup == "members":
        Tenant.objects.filter(pk=tenant.pk).update(token_exchange_policy="members")  # type: ignore[union-attr]


def run_exchange(w: MatrixWorld, clients: SurfaceClients, case: Exchange) -> tuple[int, list[str]]:
    """Run one exchange in a savepoint that is rolled back; (status, problems)."""
    reset_between_cells()
    with transaction.atomic():
        _setup(w, case)
        body: dict[str, Any] = {}
        if case.user is not None:
            body["username"] = w.users[case.user].email
            body["password"] = PASSWORD if case.right_password else PASSWORD + "-wrong"
        if case.org is not None:
            body["organizationId"] = w.orgs[case.org].public_id
        body.update(dict(case.extra))
        before = snapshot()
        response = _client(w, clients, case).post(URL, body, format="json")
        after = snapshot()
        problems = check(w, case, response, before, after)
        transaction.set_rollback(True)
    return response.status_code, problems


def check(w: MatrixWorld, case: Exchange, response: Any, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    want, status, data = expect(case), response.status_code, _json(response)
    text = response.content.decode(errors="replace")
    if status != want.status:
        return [f"got {status}, expected {want.status} {want.code} ({want.why}): {text[:200]}"]
    if not (isinstance(data, dict) and set(data) == {"errors", "data"} and isinstance(data["errors"], list)):
        return [f"not in Taffy's shape: {text[:200]}"]
    if not want.ok:
        problems = []
        if data["data"] is not None or not data["errors"] or not all(isinstance(e, str) for e in data["errors"]):
            problems.append(f"a refusal is errors [...] with data null: {text[:200]}")
        if want.field_name and not any(want.field_name in e for e in data["errors"]):
            problems.append(f"the errors do not name {want.field_name}: {data['errors']}")
        if SECRET.search(text) or any(s in text for s in w.raw.values()):
            problems.append("a key secret in a refusal")
        if before != after:
            problems.append(f"refused, yet the database changed: {diff(before, after)}")
        return problems
    return _check_issued(w, case, response, data, before, after)


def _check_issued(
    w: MatrixWorld, case: Exchange, response: Any, data: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
) -> list[str]:
    assert case.user is not None
    issued = data["data"] if isinstance(data["data"], dict) else {}
    key = issued.get("key")
    problems = [] if data["errors"] == [] else [f"a success with errors {data['errors']}"]
    if not isinstance(key, str) or not SECRET.fullmatch(key):
        return [*problems, f"no new key in the answer: {str(issued)[:200]}"]
    headers = issued.get("headers")
    if not (isinstance(headers, dict) and key in headers.values()):
        problems.append(f"no header name to send the key in: {headers}")
    if "no-store" not in response.get("Cache-Control", ""):
        problems.append("a secret-bearing answer without Cache-Control: no-store")
    text = response.content.decode(errors="replace")
    if set(SECRET.findall(text)) - {key} or any(s in text for s in w.raw.values()):
        problems.append("the answer carries another secret besides the new one")
    problems += _check_no_foreign_data(w, spec.Caller("exchanger", "session", case.user), text)
    org = _org_of(case)
    new_ids = set(after["keys"]) - set(before["keys"])
    if new_ids != {issued.get("id")}:
        return [*problems, f"keys created {sorted(new_ids)}, answered {issued.get('id')}"]
    row = _key_rows()[issued["id"]]
    requested = spec.expand(case.scopes) if case.scopes is not None else spec.perms_in(case.user, org)
    want = row._replace(
        type="standard",
        org=w.orgs[org].public_id,
        owner=w.users[case.user].email,
        perms=requested,
        digest=digest_of(key),
        is_active=True,
        revoked=False,
    )
    if row != want:
        problems.append(f"issued {row}, expected {want}")
    rest = {**after, "keys": {k: v for k, v in after["keys"].items() if k not in new_ids}}
    if rest != before:
        problems.append(f"the exchange changed more than one new key: {diff(before, rest)}")
    return problems


__all__ = ["EXCHANGES", "Exchange", "expect", "run_exchange"]
