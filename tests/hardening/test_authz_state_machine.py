"""Authorization attacked as a property (STYLE.md): a Hypothesis state machine drives the
HTTP API (DRF's APIClient through the whole Django stack) with random actors and random
operations, and checks after every step that nothing breaks the SPEC (§1, §2, §2a, §4, §7).

Actors: the signed-in sessions of a tenant owner, a tenant admin, an org admin, a member, a
viewer (who is also admin of the sibling org), an outsider tenant's owner and people who are
invited or sign up during the run; and every API key the model knows the secret of: org-bound
full (``*``), read-only (``*:read``), narrow (``["keys:write"]``, ``["scans:read"]``), unbound,
agent (``ak_``), public (``ck_``), the outsider's, and every key created or rotated during the
run. The machine learns a secret only from the create/rotate answer given to the key's owner,
and an invitation token only from the email sent to the invited address.

Expectations come from ``tests/hardening/authz_model.py`` (the SPEC as a model), never from
the application's policy code. Invariants checked after every step:

- no response carries a secret (``tater_|ak_|ck_`` + 32 hex) other than the one just issued
  by a create/rotate to the key's owner;
- every live key's ``GET /auth/validate`` permissions ⊆ owner role ∩ scopes ∩ binding (∩ the
  public cap); a revoked, deactivated or rotated-out secret is refused at once;
- no operation the rules forbid succeeds; keys out of reach are 404 and never listed; lists
  never show objects outside the caller's reach;
- the database's keys and memberships equal the model's (no role rises, no key changes,
  except by a 2xx the rules allow);
- every successful write has its audit row (with the key id when a key acted), a refused
  write has none;
- nothing of another tenant (ids, key ids, emails) appears in a response, nor an org the
  caller does not reach.

Run ``pytest tests/hardening/test_authz_state_machine.py``: profile ``authz-ci`` (fixed seed,
80 sequences of up to 10 steps, one failure reported and shrunk for at most 60 s; about a
minute and a half on SQLite or PostgreSQL + Redis). Short sequences keep shrinking quick
(every replay goes through the HTTP stack); steps that do not matter shrink to
``nothing``. Switches (environment):

- ``HYPOTHESIS_PROFILE=long``: profile ``authz-long``, random seeds, 400 sequences of up to
  60 steps, every key validated after every step, every distinct failure reported;
- ``AUTHZ_MAX_EXAMPLES=n``, ``AUTHZ_SHRINK_SECONDS=s``, ``AUTHZ_NO_SHRINK=1``,
  ``AUTHZ_FULL_VALIDATE=1``: override those bounds;
- ``AUTHZ_SURVEY=1`` (with ``-s``): record every violation category instead of stopping
  (the model resyncs from the database after a divergence) and print the tally with the
  operations' outcomes: a map of what fails, not a test;
- ``AUTHZ_ONLY=<category>``: only that violation category fails the test (the others are
  recorded), to shrink one root cause at a time.

A failure names its category in brackets (``[forbidden-success:key_rotate:rule] ...``) and
Hypothesis prints the shrunk step sequence with each request and answer (``note``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import Counter
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import transaction
from django.test import TestCase as DjangoTestCase
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, Phase, event, note, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine as conjecture_engine
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership, TenantMembership
from scans.models import Scan
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.hardening.authz_model import (
    READ_TYPES,
    STANDARD_ONLY,
    UPLOAD_TYPES,
    Caller,
    Expect,
    Invite,
    Key,
    Person,
    World,
    expand,
)
from tests.state import reset_shared_state

# --- Profiles ---------------------------------------------------------------------------------

_COMMON: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
# CI: a fixed seed; one failure reported (the simplest found), so shrinking stays short.
settings.register_profile(
    "authz-ci",
    derandomize=True,
    max_examples=80,
    stateful_step_count=10,
    report_multiple_bugs=False,
    print_blob=False,
    **_COMMON,
)
settings.register_profile(
    "authz-long", max_examples=400, stateful_step_count=60, report_multiple_bugs=True, print_blob=True, **_COMMON
)
PROFILE = "authz-long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "authz-ci"
FULL_VALIDATE = os.environ.get("AUTHZ_FULL_VALIDATE") == "1" or PROFILE == "authz-long"
NO_SHRINK = os.environ.get("AUTHZ_NO_SHRINK") == "1"
# Shrinking replays whole sequences through the HTTP stack; Hypothesis gives up after 300 s
# by default. CI stops sooner (the sequence is short by then); the long profile keeps 300 s.
SHRINK_SECONDS = int(os.environ.get("AUTHZ_SHRINK_SECONDS", "300" if PROFILE == "authz-long" else "60"))
# Survey mode (a tool for reading failures, not for CI): record every violation category
# with its first message instead of stopping, resync the model from the database after a
# divergence, and print the tally at the end (run with -s).
SURVEY = os.environ.get("AUTHZ_SURVEY") == "1"
SURVEYED: dict[str, list[Any]] = {}
# Shrink one root cause at a time: only categories containing AUTHZ_ONLY fail the test,
# the others are recorded as in survey mode.
ONLY = os.environ.get("AUTHZ_ONLY", "")
OUTCOMES: Counter[str] = Counter()  # "op: status" over the run, printed in survey mode

# --- Constants -------------------------------------------------------------------------------

SECRET_RE = re.compile(r"(?:tater_|ak_|ck_)[0-9a-f]{32}")
TOKEN_RE = re.compile(r"/invitations/([A-Za-z0-9_\-]+)/")
BOGUS_KEY = "key-00000000-0000-4000-8000-000000000000"
BOGUS_USER_ID = "usr-00000000-0000-4000-8000-000000000000"  # well-formed, nobody's
UNKNOWN_EMAILS = ["nia@invitee.test", "ned@invitee.test"]

KEY_WRITE_ACTIONS = {
    "api_key.created",
    "api_key.updated",
    "api_key.revoked",
    "api_key.rotated",
    "api_key.deactivated",
    "api_key.activated",
}
MEMBER_ACTIONS = {"member.added", "member.invited", "member.role_changed", "member.removed"}
WRITE_ACTIONS = KEY_WRITE_ACTIONS | MEMBER_ACTIONS | {"scan.uploaded", "organization.created", "organization.updated"}

SCOPE_CHOICES: list[list[str] | None] = [
    None,
    ["*"],
    ["*:read"],
    ["keys:write"],
    ["keys:read"],
    ["scans:read"],
    ["scans:write"],
    ["members:write"],
    ["audit:read"],
    ["keys:read", "scans:read"],
    ["organizations:read"],
]
# PATCH bodies: names are neutral; scopes/allowlist/expiry/rate limit narrow or widen
# depending on the key's current state; the rest are unknown or read-only fields.
# "T30"/"T60" stand for now + 30/60 days.
PATCH_PARTS: list[dict[str, Any]] = [
    {"name": "renamed"},
    {"scopes": ["*"]},
    {"scopes": ["*:read"]},
    {"scopes": ["keys:read"]},
    {"scopes": ["keys:write"]},
    {"scopes": ["scans:read"]},
    {"scopes": ["members:write", "keys:write"]},
    {"allowed_ips": []},
    {"allowed_ips": ["127.0.0.1/32"]},
    {"allowed_ips": ["127.0.0.0/8"]},
    {"allowed_ips": ["10.0.0.0/8"]},
    {"expires_at": None},
    {"expires_at": "T30"},
    {"expires_at": "T60"},
    {"rate_limit": ""},
    {"rate_limit": "900/min"},
    {"rate_limit": "950/min"},
    {"is_active": True},
    {"is_active": False},
    {"type": "standard"},
    {"owner": "olga@acme.test"},
    {"unbound": True},
    {"organization_id": "A2"},
]
MEMBER_PATCHES: list[dict[str, Any]] = [
    {"role": "viewer"},
    {"role": "member"},
    {"role": "admin"},
    {"role": "owner"},
    {"tenant_role": "admin"},
    {"tenant_role": "owner"},
    {"tenant_role": None},
    {"tenant_role": "member"},
    {"role": "admin", "tenant_role": "admin"},
    {"role": "viewer", "email": "x@evil.test"},
    {"is_active": True},
]
# "natural": the caller's own org (a key's binding: no hint; a person: their first org).
# Operations and their weights (repetitions), simplest first (Hypothesis shrinks toward it).
OPERATIONS = [
    # First, so that Hypothesis shrinks steps that do not matter into this cheap one.
    "nothing",
    "business_read",
    "validate_as_actor",
    "key_list",
    "key_create",
    "key_create",
    "key_action",
    "key_action",
    "key_action",
    "key_action",
    "member_list",
    "member_add",
    "member_invite_by_admin",
    "member_patch",
    "member_patch",
    "member_remove",
    "invitation_accept",
    "sign_up",
    "verify_email",
    "scans_upload",
]
READ_OPS = ["scans_list", "audit_read", "scans_get", "orgs_list", "org_get"]
KEY_OPS = ["get", "patch", "patch", "rotate", "rotate", "revoke", "deactivate", "activate"]
HINTS = ["natural", "natural", "natural", None, "A1", "A2", "B1", "mismatch"]


class AuthzViolation(AssertionError):
    """Base of the per-category failures (one class per category, so Hypothesis reports
    and shrinks each kind of failure separately)."""


_VIOLATION_TYPES: dict[str, type[AuthzViolation]] = {}


def violation(category: str, message: str) -> None:
    if SURVEY or (ONLY and ONLY not in category):
        seen = SURVEYED.setdefault(category, [0, message])
        seen[0] += 1
        return
    name = "Violation_" + re.sub(r"\W+", "_", category)
    cls = _VIOLATION_TYPES.setdefault(category, type(name, (AuthzViolation,), {}))
    raise cls(f"[{category}] {message}")


# --- The world ---------------------------------------------------------------------------------

PEOPLE = [
    # name, email, verified
    ("owner", "olga@acme.test", True),
    ("tadmin", "tara@acme.test", True),
    ("oadmin", "otto@acme.test", True),
    ("member", "mia@acme.test", True),
    ("viewer", "vic@acme.test", True),
    ("outsider", "oscar@globex.test", True),
    ("cand_v", "cora@people.test", True),  # a verified account, in no tenant yet
    ("cand_u", "uma@people.test", False),  # an account that never verified its address
]
# (owner, org short name or None for unbound, type, scopes)
INITIAL_KEYS = [
    ("owner", "A1", "standard", ["*"]),
    ("owner", None, "standard", ["*"]),
    ("owner", "A1", "agent", ["scans:write"]),
    ("owner", "A2", "standard", ["*"]),
    ("tadmin", "A1", "standard", ["*"]),
    ("oadmin", "A1", "standard", ["*:read"]),
    ("oadmin", "A1", "standard", ["*"]),
    ("member", "A1", "standard", ["keys:write"]),
    ("member", "A1", "standard", ["scans:read"]),
    ("member", "A1", "public", ["*:read"]),
    ("viewer", "A2", "standard", ["*"]),
    ("outsider", "B1", "standard", ["*"]),
    ("outsider", None, "standard", ["*"]),
]


def _model_key(api_key: ApiKey, owner: str, secret: str) -> Key:
    return Key(
        id=api_key.public_id,
        tenant=api_key.tenant.public_id,
        org=api_key.organization.public_id if api_key.organization_id else None,
        owner=owner,
        type=api_key.type,
        scopes=expand(api_key.scopes),
        is_active=api_key.is_active,
        revoked=api_key.revoked_at is not None,
        allowed_ips=tuple(sorted(api_key.allowed_ips)),
        expires_at=api_key.expires_at,
        rate_limit=api_key.rate_limit,
        name=api_key.name,
        secrets={secret: True},
    )


def _set_address(user: Any, email: str, verified: bool) -> None:
    """The user's (allauth) email address, verified or not."""
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": verified, "primary": True})


def build_world() -> tuple[World, dict[str, Any]]:
    users: dict[str, Any] = {}
    people: dict[str, Person] = {}
    for name, email, verified in PEOPLE:
        user = UserFactory(email=email)
        _set_address(user, email, verified)
        users[name] = user
        people[name] = Person(name, user.pk, email, verified, user.public_id)
    tenant_a, _, (a1, a2) = make_tenant(name="Acme", owner=users["owner"], plan="enterprise", orgs=2)
    org_services.tenant_member_set(tenant=tenant_a, user=users["tadmin"], role="admin")
    add_member(a1, "admin", user=users["oadmin"])
    add_member(a1, "member", user=users["member"])
    add_member(a1, "viewer", user=users["viewer"])
    add_member(a2, "admin", user=users["viewer"])
    tenant_b, _, (b1,) = make_tenant(name="Globex", owner=users["outsider"], plan="enterprise", orgs=1)
    orgs = {"A1": a1, "A2": a2, "B1": b1}
    world = World(
        tenants={"A": tenant_a.public_id, "B": tenant_b.public_id},
        orgs={o.public_id: o.tenant.public_id for o in orgs.values()},
        org_names={name: o.public_id for name, o in orgs.items()},
        people=people,
        tenant_roles={
            (tenant_a.public_id, "owner"): "owner",
            (tenant_a.public_id, "tadmin"): "admin",
            (tenant_b.public_id, "outsider"): "owner",
        },
        org_roles={
            (a1.public_id, "oadmin"): "admin",
            (a1.public_id, "member"): "member",
            (a1.public_id, "viewer"): "viewer",
            (a2.public_id, "viewer"): "admin",
        },
        keys={},
        unknown_emails=list(UNKNOWN_EMAILS),
    )
    for n, (owner, org, key_type, scopes) in enumerate(INITIAL_KEYS):
        tenant = tenant_b if owner == "outsider" else tenant_a
        api_key, secret = make_key(
            user=users[owner],
            tenant=tenant,
            org=orgs[org] if org else None,
            name=f"{owner}-{n}",
            scopes=scopes,
            key_type=key_type,
        )
        api_key = ApiKey.objects.select_related("tenant", "organization").get(pk=api_key.pk)
        world.keys[api_key.public_id] = _model_key(api_key, owner, secret)
    return world, users


def _logged_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# --- The machine -------------------------------------------------------------------------------


class AuthzMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example builds its world inside a savepoint that teardown rolls back.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        reset_shared_state()
        self.now = timezone.now().replace(microsecond=0)
        try:
            self.w, self.users = build_world()
        except BaseException:
            self.teardown()
            raise
        self.clients: dict[str, APIClient] = {}  # signed in on first use (see client_for)
        self.pk_to_person = {p.pk: p.name for p in self.w.people.values()}
        # Keys are validated once an operation touches them (FULL_VALIDATE: all, every step).
        self.touched_keys: set[str] = set()
        self.touched_people: set[str] = set()
        self.counter = 0

    def client_for(self, person: str) -> APIClient:
        """The person's signed-in client (a session of their own, like a browser)."""
        if person not in self.clients:
            self.clients[person] = _logged_in(self.users[person])
        return self.clients[person]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        reset_shared_state()

    # -- drawing ---------------------------------------------------------------------------

    def callers(self) -> list[Caller]:
        sessions = [Caller(name) for name in self.w.people]
        keys = [Caller(k.owner, k.id, secret) for k in self.w.keys.values() for secret in k.secrets]
        return sessions + keys

    def draw_caller(self, data: Any) -> Caller:
        everyone = self.callers()
        live = [c for c in everyone if not c.via_key or self.w.key_usable(self.w.keys[c.key_id], c.secret)]  # type: ignore[index,arg-type]
        sessions = [c for c in everyone if not c.via_key]
        return data.draw(st.sampled_from(sessions) | st.sampled_from(live) | st.sampled_from(everyone), label="actor")

    def natural_org(self, caller: Caller) -> str | None:
        """Short name of the org a caller naturally works in (None: send no hint)."""
        if caller.via_key:
            return None
        reachable = set(self.w.reachable_orgs(caller.person))
        return next((short for short, org in self.w.org_names.items() if org in reachable), None)

    def draw_hint(self, data: Any, caller: Caller) -> str | None:
        hint = data.draw(st.sampled_from(HINTS), label="org hint")
        return self.natural_org(caller) if hint == "natural" else hint

    def draw_via(self, data: Any) -> str:
        return data.draw(st.sampled_from(["query", "header"]), label="hint via")

    def org_id(self, short: str | None) -> str | None:
        return self.w.org_names[short] if short in self.w.org_names else None

    def draw_key_target(self, data: Any, caller: Caller) -> str:
        """Often a key of the caller's own person or of its natural org; else
        any key the model knows, other tenants' included, or an id that never existed."""
        natural = self.w.org_names.get(self.natural_org(caller) or "")
        if caller.via_key:
            natural = self.w.keys[caller.key_id].org  # type: ignore[index]
        own = [
            k.id for k in self.w.keys.values() if k.owner == caller.person and (not caller.via_key or k.org == natural)
        ]
        near = [k.id for k in self.w.keys.values() if natural and k.org == natural]
        everything = [*self.w.keys, BOGUS_KEY]
        pool = st.sampled_from(everything)
        for ids in (near, own):
            if ids:
                pool = st.sampled_from(ids) | pool
        return data.draw(pool, label="target key")

    @rule(data=st.data())
    def step(self, data: Any) -> None:
        """One operation by one actor. A single rule drawing from a weighted list, rather
        than one rule per operation: Hypothesis' swarm testing would otherwise leave most
        examples of a fixed-seed run without the key operations."""
        op = data.draw(st.sampled_from(OPERATIONS), label="operation")
        getattr(self, f"op_{op}")(data)

    # -- requests and the checks every response gets ------------------------------------------

    def send(
        self,
        caller: Caller,
        method: str,
        path: str,
        *,
        body: Any = None,
        hint: str | None = None,
        via: str = "query",
        query: dict[str, str] | None = None,
        form: bool = False,
    ) -> tuple[Any, str]:
        """One request through the full stack; returns (response, the request's own text)."""
        params = dict(query or {})
        headers: dict[str, str] = {}
        if hint == "mismatch":
            params["organizationId"] = self.w.org_names["A1"]
            headers["HTTP_X_WORKSPACE_ID"] = self.w.org_names["A2"]
        elif hint is not None:
            if via == "query":
                params["organizationId"] = self.w.org_names[hint]
            else:
                headers["HTTP_X_WORKSPACE_ID"] = self.w.org_names[hint]
        url = path + (f"?{urlencode(params)}" if params else "")
        if caller.via_key:
            client = APIClient()
            headers["HTTP_X_API_KEY"] = caller.secret  # type: ignore[assignment]
        else:
            client = self.client_for(caller.person)
        payload = json.dumps(body) if body is not None else ""
        # on_commit work (cache invalidation, emails) runs as it would after a commit.
        with DjangoTestCase.captureOnCommitCallbacks(execute=True):
            if form:
                response = client.post(url, **headers)
            else:
                response = client.generic(method, url, payload, content_type="application/json", **headers)
        request_text = " ".join([url, payload, *headers.values()])
        text = response.content.decode(errors="replace")
        shown = {k[5:]: v for k, v in headers.items() if k != "HTTP_X_API_KEY"}
        note(f"{caller.label()}: {method} {url} {shown or ''} {payload} -> {response.status_code} {text[:300]}")
        return response, request_text

    def check_response(
        self,
        caller: Caller,
        response: Any,
        request_text: str,
        *,
        issued: str | None = None,
        op: str,
        check_orgs: bool = True,
        check_tenants: bool = True,
    ) -> None:
        if response.status_code >= 500:
            violation(f"server-error:{op}", f"{caller.label()} got {response.status_code}: {response.content[:300]!r}")
        text = response.content.decode(errors="replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())
        for match in SECRET_RE.finditer(text):
            secret = match.group(0)
            if secret == issued:
                continue
            found = self.w.secret_owner(secret)
            whose = f"a secret of {found[1]}'s key {found[0].id}" if found else "an unknown secret"
            violation("secret-in-response", f"{op}: the answer to {caller.label()} carries {whose}")
        mine = self.w.caller_tenants(caller)
        for tenant in self.w.tenants.values():
            if tenant in mine or not check_tenants:
                continue
            for marker in self.w.tenant_markers(tenant):
                if marker in text and marker not in request_text:
                    violation(
                        "foreign-tenant-data",
                        f"{op}: the answer to {caller.label()} mentions {marker} of another tenant",
                    )
        if check_orgs:
            visible = self.w.visible_org_ids(caller)
            for org in self.w.orgs:
                if org not in visible and org in text and org not in request_text:
                    violation(
                        "org-outside-reach", f"{op}: the answer to {caller.label()} mentions {self.w.org_label(org)}"
                    )

    def check_expect(self, expect: Expect, response: Any, op: str, caller: Caller) -> bool:
        """True when the call succeeded (2xx) and was allowed to."""
        status = response.status_code
        ok = 200 <= status < 300
        event(f"{op}: {'2xx' if ok else status}")
        OUTCOMES[f"{op}: {'2xx' if ok else status}{f' (must fail: {expect.kind})' if expect.must_fail else ''}"] += 1
        if ok and expect.must_fail:
            # One root cause, one category: the hint check is the same for every endpoint.
            where = "any-endpoint" if expect.kind == "hint-mismatch" else op
            violation(
                f"forbidden-success:{where}:{expect.kind}", f"{caller.label()} got {status} although {expect.must_fail}"
            )
        # A key whose owner lost the roles behind its binding may be dead altogether (SPEC §2:
        # removing the owner "narrows or kills the key"): a 401 then says nothing either.
        killed = {401} if caller.via_key and not self.w.owner_holds_binding(self.w.keys[caller.key_id]) else set()  # type: ignore[index]
        if not ok and expect.status is not None and status not in expect.status | {429} | killed:
            violation(
                f"wrong-status:{op}:{expect.kind}",
                f"{caller.label()} got {status}, the rules say {sorted(expect.status)} ({expect.must_fail}): {response.content[:200]!r}",
            )
        return ok

    def last_audit_pk(self) -> int:
        return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def check_audit(self, before: int, ok: bool, caller: Caller, op: str, expected: set[str] | None) -> None:
        """A successful write that changed something has its row (the key id when a key
        acted); a refused write leaves none."""
        rows = list(
            AuditEvent.objects.filter(pk__gt=before).values(
                "action", "api_key_id", "channel", "actor_user_id", "tenant_id"
            )
        )
        writes = [r for r in rows if r["action"] in WRITE_ACTIONS]
        if not ok:
            if writes:
                violation(
                    f"audit-for-refused-write:{op}",
                    f"{caller.label()}: refused, yet audited {[r['action'] for r in writes]}",
                )
            return
        if not expected:
            return
        matching = [r for r in rows if r["action"] in expected]
        if not matching:
            violation(
                f"audit-missing:{op}",
                f"{caller.label()}: 2xx without an audit row in {sorted(expected)} (rows: {[r['action'] for r in rows]})",
            )
        for row in matching:
            if caller.via_key and (row["api_key_id"] != caller.key_id or row["channel"] != "api"):
                violation(f"audit-actor:{op}", f"{caller.label()}: audit row {row} does not name the key that acted")
            if not caller.via_key and row["actor_user_id"] != self.w.people[caller.person].pk:
                violation(f"audit-actor:{op}", f"{caller.label()}: audit row {row} does not name the user who acted")

    def json(self, response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    # -- key rules ------------------------------------------------------------------------

    def op_nothing(self, data: Any) -> None:
        """No request (what irrelevant steps shrink to)."""

    def op_key_create(self, data: Any) -> None:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        self.counter += 1
        body: dict[str, Any] = {"name": f"made-{self.counter}"}
        key_type = data.draw(st.sampled_from(["standard", "standard", "agent", "public"]), label="type")
        if key_type != "standard":
            body["type"] = key_type
        scopes = data.draw(st.sampled_from(SCOPE_CHOICES), label="scopes")
        if scopes is not None:
            body["scopes"] = scopes
        unbound = data.draw(st.sampled_from([None, False, True]), label="unbound")
        if unbound is not None:
            body["unbound"] = unbound
        expect, allowed = self._expect_with_hint(hint, lambda h: self.w.expect_key_create(caller, h, body))
        before = self.last_audit_pk()
        response, request_text = self.send(caller, "POST", "/api/v1/keys/", body=body, hint=hint, via=via)
        answer = self.json(response) or {}
        issued = answer.get("key") if 200 <= response.status_code < 300 else None
        self.check_secret_owner(caller, answer, issued, "key_create")
        self.check_response(caller, response, request_text, issued=issued, op="key_create")
        ok = self.check_expect(expect, response, "key_create", caller)
        self.check_audit(before, ok, caller, "key_create", {"api_key.created"})
        ctx = expect.ctx
        if not ok or ctx is None:
            return
        api_key = ApiKey.objects.select_related("tenant", "organization", "owner").get(public_id=answer["id"])
        want_org = None if unbound else ctx.org
        got_org = api_key.organization.public_id if api_key.organization_id else None
        if (
            api_key.owner_id != self.w.people[ctx.person].pk
            or got_org != want_org
            or api_key.tenant.public_id != ctx.tenant
        ):
            violation(
                "key_create-wrong-binding",
                f"{caller.label()} created {answer['id']} owned by {api_key.owner.email} in {got_org}, expected {ctx.person} in {want_org}",
            )
        if api_key.type != key_type:
            violation("key_create-wrong-type", f"asked {key_type}, got {api_key.type}")
        if not expand(api_key.scopes) <= allowed:
            violation(
                "key_create-scopes-beyond-creator",
                f"{caller.label()} created a key with {api_key.scopes}, may grant at most {sorted(allowed)}",
            )
        self.w.keys[api_key.public_id] = _model_key(api_key, ctx.person, issued)  # type: ignore[arg-type]
        self.touched_keys.add(api_key.public_id)

    def _expect_with_hint(self, hint: str | None, compute: Any) -> Any:
        """Two differing org hints are a 400 whatever else the call is."""
        if hint == "mismatch":
            # The context is the query parameter's (A1), for the checks that follow a 2xx.
            got = compute(self.w.org_names["A1"])
            first = got[0] if isinstance(got, tuple) else got
            mismatch = Expect.fail(
                "organizationId and X-Workspace-ID name different orgs", kind="hint-mismatch", ctx=first.ctx
            )
            return (mismatch, got[1]) if isinstance(got, tuple) else mismatch
        return compute(self.org_id(hint))

    def check_secret_owner(self, caller: Caller, answer: Any, issued: str | None, op: str) -> None:
        if not issued:
            return
        if not SECRET_RE.fullmatch(str(issued)):
            violation(f"malformed-secret:{op}", f"issued {issued!r}")
        api_key = ApiKey.objects.select_related("owner").filter(public_id=answer.get("id")).first()
        if api_key is None or api_key.owner_id != self.w.people[caller.person].pk:
            violation(
                "secret-to-non-owner",
                f"{op}: {caller.label()} received the secret of a key owned by {api_key.owner.email if api_key else '?'}",
            )

    def op_key_list(self, data: Any) -> None:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        expect = self._expect_with_hint(hint, lambda h: self.w.expect_key_read(caller, h))
        response, request_text = self.send(caller, "GET", "/api/v1/keys/", hint=hint, via=via, query={"limit": "200"})
        self.check_response(caller, response, request_text, op="key_list")
        self.check_key_ids(caller, expect, response, request_text, "key_list")
        if not self.check_expect(expect, response, "key_list", caller) or expect.ctx is None:
            return
        listed = {item["id"] for item in (self.json(response) or {}).get("keys", [])}
        may, must = self.w.key_reach(expect.ctx)
        if listed - may:
            violation(
                "key_list-beyond-reach",
                f"{caller.label()} (org {self.w.org_label(expect.ctx.org or '-')}) lists {sorted(listed - may)} outside its reach",
            )
        if must - listed:
            violation("key_list-incomplete", f"{caller.label()} does not list {sorted(must - listed)} within its reach")

    def check_key_ids(self, caller: Caller, expect: Expect, response: Any, request_text: str, op: str) -> None:
        """Answers of the keys endpoints name no key outside the caller's reach."""
        text = response.content.decode(errors="replace")
        may = self.w.key_reach(expect.ctx)[0] if expect.ctx else set()
        for key_id in self.w.keys:
            if key_id in text and key_id not in may and key_id != caller.key_id and key_id not in request_text:
                violation(
                    f"{op}-key-outside-reach",
                    f"the answer to {caller.label()} names key {key_id} (of {self.w.keys[key_id].owner})",
                )

    def _key_action(
        self, data: Any, op: str, method: str, suffix: str, body: Any = None, model_body: dict[str, Any] | None = None
    ) -> tuple[Caller, Expect, Any, Key | None, bool]:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        target = self.draw_key_target(data, caller)
        expect = self._expect_with_hint(hint, lambda h: self.w.expect_key_action(caller, h, target, op, model_body))
        key = self.w.keys.get(target)
        before = self.last_audit_pk()
        response, request_text = self.send(
            caller, method, f"/api/v1/keys/{target}/{suffix}", body=body, hint=hint, via=via
        )
        answer = self.json(response) or {}
        issued = answer.get("key") if op == "rotate" and 200 <= response.status_code < 300 else None
        self.check_secret_owner(caller, answer, issued, op)
        self.check_response(caller, response, request_text, issued=issued, op=f"key_{op}")
        self.check_key_ids(caller, expect, response, request_text, f"key_{op}")
        ok = self.check_expect(expect, response, f"key_{op}", caller)
        if key is not None:
            self.touched_keys.add(key.id)
        return caller, expect, (before, answer, issued), key, ok

    def op_key_action(self, data: Any) -> None:
        """get / patch / rotate / revoke / deactivate / activate one key (one rule, so that
        swarm testing does not starve some of them)."""
        op = data.draw(st.sampled_from(KEY_OPS), label="key operation")
        getattr(self, f"_key_{op}")(data)

    def _key_get(self, data: Any) -> None:
        caller, _, (before, _, _), _, ok = self._key_action(data, "get", "GET", "")
        self.check_audit(before, ok, caller, "key_get", None)

    def _key_patch(self, data: Any) -> None:
        parts = data.draw(st.lists(st.sampled_from(range(len(PATCH_PARTS))), min_size=1, max_size=2), label="patch")
        body: dict[str, Any] = {}
        model_body: dict[str, Any] = {}
        for i in parts:
            for field_name, value in PATCH_PARTS[i].items():
                sent, modelled = value, value
                if field_name == "expires_at" and value in ("T30", "T60"):
                    modelled = self.now + timedelta(days=30 if value == "T30" else 60)
                    sent = modelled.isoformat()
                if field_name == "organization_id":
                    sent = modelled = self.w.org_names[value]
                body[field_name], model_body[field_name] = sent, modelled
        caller, expect, (before, _, _), key, ok = self._key_action(
            data, "patch", "PATCH", "", body=body, model_body=model_body
        )
        changed = key is not None and self.w.patch_changes(key, model_body)
        self.check_audit(before, ok, caller, "key_patch", {"api_key.updated"} if changed else None)
        if ok and key is not None:
            self.w.apply_patch(key, model_body)

    def _key_rotate(self, data: Any) -> None:
        grace = data.draw(st.sampled_from([None, 0]), label="grace")
        body = {} if grace is None else {"grace_period_seconds": grace}
        caller, _, (before, answer, issued), key, ok = self._key_action(data, "rotate", "POST", "rotate/", body=body)
        self.check_audit(before, ok, caller, "key_rotate", {"api_key.rotated"})
        if ok and key is not None and issued:
            self.w.apply_rotate(key, issued, 24 * 3600 if grace is None else grace)

    def _key_revoke(self, data: Any) -> None:
        caller, _, (before, _, _), key, ok = self._key_action(data, "revoke", "POST", "revoke/")
        self.check_audit(before, ok, caller, "key_revoke", {"api_key.revoked"} if key and not key.revoked else None)
        if ok and key is not None:
            key.revoked = True

    def _key_deactivate(self, data: Any) -> None:
        caller, _, (before, _, _), key, ok = self._key_action(data, "deactivate", "POST", "deactivate/")
        changed = key is not None and key.is_active and not key.revoked
        self.check_audit(before, ok, caller, "key_deactivate", {"api_key.deactivated"} if changed else None)
        if ok and key is not None and not key.revoked:
            key.is_active = False

    def _key_activate(self, data: Any) -> None:
        caller, _, (before, _, _), key, ok = self._key_action(data, "activate", "POST", "activate/")
        changed = key is not None and not key.is_active and not key.revoked
        self.check_audit(before, ok, caller, "key_activate", {"api_key.activated"} if changed else None)
        if ok and key is not None and not key.revoked:
            key.is_active = True

    # -- members and invitations ----------------------------------------------------------------

    def _members_path(self, org: str, user_id: str | None = None) -> str:
        base = f"/api/v1/organizations/{self.w.org_names[org]}/members/"
        return base + (f"{user_id}/" if user_id else "")

    def op_member_list(self, data: Any) -> None:
        caller = self.draw_caller(data)
        org = self.draw_member_org(data, caller)
        org_id = self.w.org_names[org]
        expect = self.w.expect_member_op(caller, org_id, "list")
        response, request_text = self.send(caller, "GET", self._members_path(org))
        self.check_response(caller, response, request_text, op="member_list")
        if not self.check_expect(expect, response, "member_list", caller):
            return
        answer = self.json(response) or {}
        allowed = {p.email for p in self.w.people.values() if self.w.reaches_org(p.name, org_id)}
        allowed |= {i.email for i in self.w.invites if i.org == org_id and i.pending}
        listed = {m["email"] for m in answer.get("members", [])} | {
            i["email"] for i in answer.get("pending_invitations", [])
        }
        if listed - allowed:
            violation("member_list-beyond-org", f"{caller.label()} sees {sorted(listed - allowed)} in {org}")

    def draw_email(self, data: Any) -> str:
        emails = [p.email for p in self.w.people.values()] + self.w.unknown_emails
        # Often someone outside every tenant (verified or not) or an address without an account.
        outside = [p.email for p in self.w.people.values() if not self.w.person_tenants(p.name)] + self.w.unknown_emails
        pool = st.sampled_from(outside) | st.sampled_from(emails) if outside else st.sampled_from(emails)
        return data.draw(pool, label="email")

    def op_member_add(self, data: Any) -> None:
        caller = self.draw_caller(data)
        org = self.draw_member_org(data, caller)
        email = self.draw_email(data)
        role = data.draw(st.sampled_from(["member", "viewer", "admin", "owner"]), label="role")
        extra = data.draw(st.sampled_from([{}, {}, {"tenant_role": "admin"}]), label="extra fields")
        self._member_add(caller, org, email, role, extra)

    def op_member_invite_by_admin(self, data: Any) -> None:
        """An admin's session adds someone to an org it administers: the invitation flow
        (tokens, then accept attempts by anyone) gets going more often than at random."""
        admins = sorted(
            (name, short)
            for name in self.w.people
            for short, org in self.w.org_names.items()
            if self.w.administers(name, org)
        )
        if not admins:
            return
        name, org = data.draw(st.sampled_from(admins), label="admin and org")
        role = data.draw(st.sampled_from(["member", "viewer", "admin"]), label="role")
        self._member_add(Caller(name), org, self.draw_email(data), role)

    def _member_add(self, caller: Caller, org: str, email: str, role: str, extra: dict[str, Any] | None = None) -> None:
        org_id = self.w.org_names[org]
        body = {"email": email, "role": role, **(extra or {})}
        expect = self.w.expect_member_op(caller, org_id, "add", body=body)
        before, outbox = self.last_audit_pk(), len(mail.outbox)
        response, request_text = self.send(caller, "POST", self._members_path(org), body=body)
        self.check_response(caller, response, request_text, op="member_add")
        ok = self.check_expect(expect, response, "member_add", caller)
        answer = self.json(response) or {}
        result = answer.get("result")
        self.check_audit(
            before, ok, caller, "member_add", {"member.added"} if result == "added" else {"member.invited"}
        )
        if not ok:
            return
        person = self.w.person_by_email(email)
        OUTCOMES[f"member_add: result {result}"] += 1
        if result == "added":
            if person is None or not person.verified:
                violation(
                    "member_add-unverified-added",
                    f"{caller.label()} added {email} directly, an address nobody verified",
                )
            if person is None:
                return
            self.w.org_roles[(org_id, person.name)] = role
            self.touched_people.add(person.name)
        elif result == "invited":
            for invite in self.w.invites:
                if invite.org == org_id and invite.email == email:
                    invite.pending = False
            for message in mail.outbox[outbox:]:
                if email in message.to:
                    match = TOKEN_RE.search(message.body)
                    if match:
                        self.w.invites.append(Invite(match.group(1), org_id, email, role))
        else:
            violation("member_add-unknown-result", f"result {result!r}")

    def _draw_member_target(self, data: Any, org: str) -> str:
        inside = sorted(p for p in self.w.people if self.w.reaches_org(p, self.w.org_names[org]))
        everyone = [*sorted(self.w.people), "nobody"]
        pool = st.sampled_from(inside) | st.sampled_from(everyone) if inside else st.sampled_from(everyone)
        return data.draw(pool, label="member")

    def draw_member_org(self, data: Any, caller: Caller) -> str:
        natural = self.natural_org(caller)
        if caller.via_key:
            natural = self.w.org_label(self.w.keys[caller.key_id].org or "")  # type: ignore[index]
        choices = ["A1", "A2", "B1"]
        if natural in choices:
            return data.draw(st.sampled_from([natural, natural, *choices]), label="org")
        return data.draw(st.sampled_from(choices), label="org")

    def op_member_patch(self, data: Any) -> None:
        caller = self.draw_caller(data)
        org = self.draw_member_org(data, caller)
        target = self._draw_member_target(data, org)
        body = dict(data.draw(st.sampled_from(MEMBER_PATCHES), label="member patch"))
        org_id = self.w.org_names[org]
        user_id = self.w.people[target].public_id if target in self.w.people else BOGUS_USER_ID
        expect = self.w.expect_member_op(caller, org_id, "patch", target=target, body=body)
        before = self.last_audit_pk()
        response, request_text = self.send(caller, "PATCH", self._members_path(org, user_id), body=body)
        self.check_response(caller, response, request_text, op="member_patch")
        ok = self.check_expect(expect, response, "member_patch", caller)
        roles_before = (dict(self.w.tenant_roles), dict(self.w.org_roles))
        if ok:
            self.w.apply_member_patch(org_id, target, body)
            self.touched_people.add(target)
        changed = ok and roles_before != (self.w.tenant_roles, self.w.org_roles)
        self.check_audit(before, ok, caller, "member_patch", MEMBER_ACTIONS if changed else None)

    def op_member_remove(self, data: Any) -> None:
        caller = self.draw_caller(data)
        org = self.draw_member_org(data, caller)
        target = self._draw_member_target(data, org)
        org_id = self.w.org_names[org]
        user_id = self.w.people[target].public_id if target in self.w.people else BOGUS_USER_ID
        expect = self.w.expect_member_op(caller, org_id, "remove", target=target)
        before = self.last_audit_pk()
        response, request_text = self.send(caller, "DELETE", self._members_path(org, user_id))
        self.check_response(caller, response, request_text, op="member_remove")
        ok = self.check_expect(expect, response, "member_remove", caller)
        self.check_audit(before, ok, caller, "member_remove", {"member.removed"} if ok else None)
        if ok:
            self.w.apply_member_remove(org_id, target)
            self.touched_people.add(target)

    def op_invitation_accept(self, data: Any) -> None:
        if not self.w.invites:
            return
        invite = data.draw(st.sampled_from(self.w.invites), label="invitation")
        holders = sorted(p.name for p in self.w.people.values() if p.email == invite.email)
        everyone = st.sampled_from(sorted(self.w.people))
        person = data.draw(st.sampled_from(holders) | everyone if holders else everyone, label="accepting person")
        who = self.w.people[person]
        allowed = invite.pending and who.email == invite.email and who.verified
        before = self.last_audit_pk()
        caller = Caller(person)
        response, request_text = self.send(caller, "POST", f"/invitations/{invite.token}/", form=True)
        # The invitation page shows the invitation (org, invited address) to whoever holds
        # the link, as the email itself does: only the secret check applies.
        self.check_response(
            caller, response, request_text, op="invitation_accept", check_orgs=False, check_tenants=False
        )
        ok = response.status_code == 302
        event(f"invitation_accept: {response.status_code}")
        OUTCOMES[f"invitation_accept: {response.status_code}{'' if allowed else ' (must fail)'}"] += 1
        if ok and not allowed:
            reason = (
                "not pending"
                if not invite.pending
                else ("another address" if who.email != invite.email else "unverified address")
            )
            violation(
                "forbidden-success:invitation_accept", f"{person} accepted an invitation for {invite.email} ({reason})"
            )
        joins = ok and not self.w.org_role(person, invite.org)
        self.check_audit(before, ok, caller, "invitation_accept", {"member.added"} if joins else None)
        if ok:
            invite.pending = False
            if joins:
                self.w.org_roles[(invite.org, person)] = invite.role
            self.touched_people.add(person)
        # Pages remember an org in the session (the org switcher's choice, or a default),
        # which later session API calls without a hint resolve to: follow what it holds.
        chosen = self.client_for(person).session.get("current_org_id")
        if chosen:
            self.w.session_org[person] = chosen
        else:
            self.w.session_org.pop(person, None)

    def op_sign_up(self, data: Any) -> None:
        """Someone creates an account for an address that has none (maybe an invited one)."""
        if not self.w.unknown_emails:
            return
        email = data.draw(st.sampled_from(self.w.unknown_emails), label="new account")
        verified = data.draw(st.booleans(), label="verified")
        name = email.split("@")[0]
        user = UserFactory(email=email)
        _set_address(user, email, verified)
        self.w.unknown_emails.remove(email)
        self.w.people[name] = Person(name, user.pk, email, verified, user.public_id)
        self.users[name] = user
        self.pk_to_person[user.pk] = name
        note(f"{name} signs up as {email} (verified={verified})")

    def op_verify_email(self, data: Any) -> None:
        unverified = sorted(p.name for p in self.w.people.values() if not p.verified)
        if not unverified:
            return
        name = data.draw(st.sampled_from(unverified), label="verifies")
        EmailAddress.objects.filter(user_id=self.w.people[name].pk).update(verified=True)
        self.w.people[name].verified = True
        note(f"{name} verifies {self.w.people[name].email}")

    # -- audit, scans, organizations, validate --------------------------------------------------

    def _simple_read(
        self,
        caller: Caller,
        hint: str | None,
        via: str,
        path: str,
        types: frozenset[str],
        scope: str | None,
        op: str,
        *,
        org_required: bool = True,
    ) -> tuple[Expect, Any]:
        def compute(h: str | None) -> Expect:
            got = self.w._ctx_for(caller, h, types, scope, org_required=org_required)
            return got if isinstance(got, Expect) else Expect(ctx=got)

        expect = self._expect_with_hint(hint, compute)
        before = self.last_audit_pk()
        response, request_text = self.send(caller, "GET", path, hint=hint, via=via)
        self.check_response(caller, response, request_text, op=op)
        self.check_expect(expect, response, op, caller)
        self.check_audit(before, 200 <= response.status_code < 300, caller, op, None)
        return expect, response

    def op_business_read(self, data: Any) -> None:
        """Audit log, scans, organizations (one rule: they weigh as much as one key rule)."""
        op = data.draw(st.sampled_from(READ_OPS), label="read")
        getattr(self, f"_{op}")(data)

    def _audit_read(self, data: Any) -> None:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        expect, response = self._simple_read(
            caller, hint, via, "/api/v1/audit-log/", STANDARD_ONLY, "audit:read", "audit_read"
        )
        if not 200 <= response.status_code < 300 or expect.ctx is None:
            return
        ctx = expect.ctx
        ids = [e["id"] for e in (self.json(response) or {}).get("entries", [])]
        # Tenant owners/admins read the whole tenant's log; an org-bound key only its org's.
        tenant_wide = (ctx.key is None and bool(self.w.tenant_role(ctx.person, ctx.tenant))) or (
            ctx.key is not None and ctx.key.org is None
        )
        allowed_orgs = {o for o, t in self.w.orgs.items() if t == ctx.tenant} if tenant_wide else {ctx.org}
        for row in AuditEvent.objects.filter(public_id__in=ids).select_related("tenant", "organization"):
            org = row.organization.public_id if row.organization_id else None
            tenant = row.tenant.public_id if row.tenant_id else None
            if tenant != ctx.tenant or (org is not None and org not in allowed_orgs):
                violation(
                    "audit_read-beyond-reach", f"{caller.label()} reads {row.action} of tenant {tenant} org {org}"
                )

    def _scan_ctx_check(self, expect: Expect, response: Any, caller: Caller, op: str) -> None:
        if not 200 <= response.status_code < 300 or expect.ctx is None:
            return
        answer = self.json(response) or {}
        ids = [s["id"] for s in answer.get("scans", [])] or ([answer["id"]] if "id" in answer else [])
        for scan_id in ids:
            if self.w.scans.get(scan_id) != expect.ctx.org:
                violation(f"{op}-beyond-org", f"{caller.label()} sees scan {scan_id} of {self.w.scans.get(scan_id)}")

    def _scans_list(self, data: Any) -> None:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        expect, response = self._simple_read(
            caller, hint, via, "/api/v1/scans/", READ_TYPES, "scans:read", "scans_list"
        )
        self._scan_ctx_check(expect, response, caller, "scans_list")

    def _scans_get(self, data: Any) -> None:
        if not self.w.scans:
            return
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        # Insertion order, not the random ids' order: a replay must draw the same scan.
        scan_id = data.draw(st.sampled_from(list(self.w.scans)), label="scan")
        expect, response = self._simple_read(
            caller, hint, via, f"/api/v1/scans/{scan_id}/", READ_TYPES, "scans:read", "scans_get"
        )
        if expect.ctx is not None and not expect.must_fail and self.w.scans[scan_id] != expect.ctx.org:
            expect = Expect.fail("scan of another org", kind="reach", ctx=expect.ctx, status=404)
            self.check_expect(expect, response, "scans_get", caller)
        self._scan_ctx_check(expect, response, caller, "scans_get")

    def op_scans_upload(self, data: Any) -> None:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)

        def compute(h: str | None) -> Expect:
            got = self.w._ctx_for(caller, h, UPLOAD_TYPES, "scans:write")
            return got if isinstance(got, Expect) else Expect(ctx=got)

        expect = self._expect_with_hint(hint, compute)
        body = {"scanner": "nmap", "target": "10.20.0.0/24", "started_at": "2026-01-15T09:30:00Z", "findings": []}
        before = self.last_audit_pk()
        response, request_text = self.send(caller, "POST", "/api/v1/scans/upload", body=body, hint=hint, via=via)
        self.check_response(caller, response, request_text, op="scans_upload")
        ok = self.check_expect(expect, response, "scans_upload", caller)
        self.check_audit(before, ok, caller, "scans_upload", {"scan.uploaded"})
        if ok and expect.ctx is not None:
            scan_id = (self.json(response) or {}).get("id")
            scan = Scan.objects.select_related("organization").filter(public_id=scan_id).first()
            if scan is None or scan.organization.public_id != expect.ctx.org:
                violation(
                    "scans_upload-wrong-org",
                    f"{caller.label()} uploaded into {scan and scan.organization.public_id}, resolved {expect.ctx.org}",
                )
            self.w.scans[scan_id] = expect.ctx.org  # type: ignore[assignment]

    def _orgs_list(self, data: Any) -> None:
        caller = self.draw_caller(data)
        hint, via = self.draw_hint(data, caller), self.draw_via(data)
        if caller.via_key:
            expect, response = self._simple_read(
                caller,
                hint,
                via,
                "/api/v1/organizations/",
                READ_TYPES,
                "organizations:read",
                "orgs_list",
                org_required=False,
            )
        else:
            response, request_text = self.send(caller, "GET", "/api/v1/organizations/", hint=hint, via=via)
            self.check_response(caller, response, request_text, op="orgs_list")
            event(f"orgs_list: {response.status_code}")
        if 200 <= response.status_code < 300:
            listed = {o["id"] for o in (self.json(response) or {}).get("organizations", [])}
            beyond = listed - self.w.visible_org_ids(caller)
            if beyond:
                violation("orgs_list-beyond-reach", f"{caller.label()} lists {[self.w.org_label(o) for o in beyond]}")

    def _org_get(self, data: Any) -> None:
        caller = self.draw_caller(data)
        org = self.draw_member_org(data, caller)
        org_id = self.w.org_names[org]
        got = self.w._ctx_for(caller, org_id, READ_TYPES, "organizations:read")
        expect = got if isinstance(got, Expect) else Expect(ctx=got)
        if expect.kind == "org":
            expect.status = frozenset({404})
        response, request_text = self.send(caller, "GET", f"/api/v1/organizations/{org_id}/")
        self.check_response(caller, response, request_text, op="org_get")
        self.check_expect(expect, response, "org_get", caller)

    def op_validate_as_actor(self, data: Any) -> None:
        keys = [c for c in self.callers() if c.via_key]
        caller = data.draw(st.sampled_from(keys), label="key")
        self.validate_secret(caller)

    # -- invariants ---------------------------------------------------------------------------

    def validate_secret(self, caller: Caller) -> None:
        key = self.w.keys[caller.key_id]  # type: ignore[index]
        response, request_text = self.send(caller, "GET", "/api/v1/auth/validate")
        self.check_response(caller, response, request_text, op="validate")
        if response.status_code == 429:
            return
        ok = response.status_code == 200
        if not self.w.key_usable(key, caller.secret):  # type: ignore[arg-type]
            if ok:
                violation(
                    "dead-secret-accepted",
                    f"{caller.label()} (revoked={key.revoked} active={key.is_active} ips={key.allowed_ips}, secret live={key.secrets[caller.secret]}) still validates",
                )  # type: ignore[index]
            return
        if not ok:
            if self.w.owner_holds_binding(key):
                violation(
                    "live-key-refused", f"{caller.label()} got {response.status_code}: {response.content[:200]!r}"
                )
            return
        answer = self.json(response) or {}
        permissions = set(answer.get("permissions") or [])
        allowed = self.w.effective(key)
        if not permissions <= allowed:
            violation(
                f"validate-permissions-beyond-model:{key.type}:{'unbound' if key.org is None else 'org'}",
                f"{caller.label()} (scopes {sorted(key.scopes)}) reports {sorted(permissions - allowed)} beyond role ∩ scopes ∩ binding {sorted(allowed)}",
            )
        if (
            answer.get("id") != key.id
            or answer.get("organization_id") != key.org
            or answer.get("tenant_id") != key.tenant
        ):
            violation(
                "validate-identity",
                f"{caller.label()} validates as {answer.get('id')} org {answer.get('organization_id')}",
            )

    @invariant()
    def keys_validate_within_model(self) -> None:
        targets = set(self.touched_keys)
        targets |= {k.id for k in self.w.keys.values() if k.owner in self.touched_people}
        if FULL_VALIDATE:
            targets = set(self.w.keys)
        for key_id in [k for k in self.w.keys if k in targets]:
            key = self.w.keys[key_id]
            for secret in list(key.secrets):
                self.validate_secret(Caller(key.owner, key.id, secret))
        self.touched_keys.clear()
        self.touched_people.clear()

    @invariant()
    def database_matches_model(self) -> None:
        rows = ApiKey.objects.select_related("tenant", "organization").filter(
            tenant__public_id__in=self.w.tenants.values()
        )
        seen = set()
        for row in rows:
            seen.add(row.public_id)
            key = self.w.keys.get(row.public_id)
            if key is None:
                violation("db-key-unknown", f"key {row.public_id} ({row.name}) exists without a 2xx that created it")
                self.w.keys[row.public_id] = _model_key(row, self.pk_to_person.get(row.owner_id, "?"), "")
                self.w.keys[row.public_id].secrets.clear()
                continue
            actual = {
                "owner": self.pk_to_person.get(row.owner_id),
                "org": row.organization.public_id if row.organization_id else None,
                "type": row.type,
                "scopes": expand(row.scopes),
                "is_active": row.is_active,
                "revoked": row.revoked_at is not None,
                "allowed_ips": tuple(sorted(row.allowed_ips)),
                "expires_at": row.expires_at,
                "rate_limit": row.rate_limit,
                "name": row.name,
            }
            expected = {name: getattr(key, name) for name in actual}
            diff = {k: (expected[k], actual[k]) for k in actual if expected[k] != actual[k]}
            if diff:
                violation("db-key-diverged", f"key {row.public_id} of {key.owner}: (model, db) differ in {diff}")
                for name, (_, value) in diff.items():
                    setattr(key, name, value)  # survey mode: carry on from the database's state
        missing = set(self.w.keys) - seen
        if missing:
            violation("db-key-missing", f"keys {sorted(missing)} vanished")
            for key_id in missing:
                del self.w.keys[key_id]
        tenant_by_pk = {}
        actual_tenant_roles = {}
        for m in TenantMembership.objects.select_related("tenant").filter(
            tenant__public_id__in=self.w.tenants.values()
        ):
            tenant_by_pk[m.tenant_id] = m.tenant.public_id
            actual_tenant_roles[(m.tenant.public_id, self.pk_to_person.get(m.user_id, m.user_id))] = m.role
        actual_org_roles = {
            (m.organization.public_id, self.pk_to_person.get(m.user_id, m.user_id)): m.role
            for m in OrgMembership.objects.select_related("organization").filter(
                organization__public_id__in=self.w.orgs
            )
        }
        for label, expected_roles, actual_roles in (
            ("tenant", self.w.tenant_roles, actual_tenant_roles),
            ("org", self.w.org_roles, actual_org_roles),
        ):
            if expected_roles != actual_roles:
                diff = {
                    k: (expected_roles.get(k), actual_roles.get(k))  # type: ignore[call-overload]
                    for k in set(expected_roles) | set(actual_roles)
                    if expected_roles.get(k) != actual_roles.get(k)  # type: ignore[call-overload]
                }
                named = {(self.w.org_label(k[0]), k[1]): v for k, v in diff.items()}
                violation(f"db-{label}-roles-diverged", f"(model, db) roles differ: {named}")
                expected_roles.clear()
                expected_roles.update(actual_roles)  # survey mode: carry on from the database's state


# --- The test ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.slow
@override_settings(TATER_LOCKOUT_CLIENT_FAILURES=1_000_000, TATER_LOCKOUT_ACCOUNT_FAILURES=1_000_000)
def test_authorization_state_machine() -> None:
    profile = settings.get_profile(PROFILE)
    if os.environ.get("AUTHZ_MAX_EXAMPLES"):
        profile = settings(profile, max_examples=int(os.environ["AUTHZ_MAX_EXAMPLES"]))
    if NO_SHRINK:
        profile = settings(profile, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target])
    # The shrink time budget is a module constant of Hypothesis' engine (no setting exists);
    # left alone if a Hypothesis version does not have it.
    budget = (
        mock.patch.object(conjecture_engine, "MAX_SHRINKING_SECONDS", SHRINK_SECONDS)
        if hasattr(conjecture_engine, "MAX_SHRINKING_SECONDS")
        else contextlib.nullcontext()
    )
    with budget:
        run_state_machine_as_test(AuthzMachine, settings=profile)
    if SURVEY:
        print("\n" + "\n".join(f"{n:5d}  {outcome}" for outcome, n in sorted(OUTCOMES.items())))
        for category, (count, message) in sorted(SURVEYED.items()):
            print(f"\n{count:5d}  {category}\n       {message[:600]}")
