"""SPEC §2a "Who may act on which key", on every channel that exposes it (review D, s39).

Actors (people by session or identity-provider token, API keys of every kind and state, a
SCIM token, nobody) × target keys (their own, a peer's, an admin's, a sibling org's, the
tenant's unbound key, another tenant's, a made-up id) × actions (read, usage, narrow, widen,
rotate, revoke, deactivate, activate; list, audit, create) × channels:

- ``api``: ``/api/v1/keys/…`` (and ``audit-log/``), with a session, a key or an IdP token;
- ``ui``: the Django pages under ``/keys/`` (and ``/activity/``), with a session;
- ``idp``: ``/api/v1/`` with the same person's identity-provider token;
- ``tatry``: ``GET /v1/auth/keys`` with a key (SPEC §5a);
- ``taffy`` / ``exchange``: ``POST /auth/token`` and ``POST /api/v1/auth/token`` (email + password).

Every expectation is ``key_matrix_spec``'s, written from the SPEC. Each cell runs in a
savepoint rolled back after it, over one population built per module, and is checked for:
the answer (status and catalog code on the API, the page's status on the UI); the database
(an allowed write changed exactly what it says, a refused one nothing, no key created); no
key secret in any answer but a create/rotate answer to the key's own owner; the same answer
for a made-up id as for a key outside reach (existence is not told); and the same decision on
every channel for the same person.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import services as org_services
from orgs.models import Organization, Tenant
from scim.services.tokens import scim_token_create
from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import PASSWORD, UserFactory, add_member, make_key, make_tenant, oidc_sso
from tests.hardening import key_matrix_spec as spec
from tests.state import reset_shared_state

SECRET = re.compile(r"\b[a-z]+_[0-9a-f]{32}(?![0-9a-f])")


# --- The population ----------------------------------------------------------------------------
@dataclass
class World:
    tenants: dict[str, Tenant]
    orgs: dict[str, Organization]
    users: dict[str, Any]
    targets: dict[str, ApiKey]
    keys: dict[str, ApiKey]  # actor name → the calling key
    raw: dict[str, str]  # actor name or target name → secret
    idp: OIDCProvider
    clients: dict[str, Client]

    def org_id(self, label: str | None) -> str | None:
        return self.orgs[label].public_id if label else None


def _build(idp: OIDCProvider) -> World:
    people = {name: UserFactory(email=f"{name}@{p.email_domain}") for name, p in spec.PEOPLE.items()}
    tenant_a, _, (a1, a2) = make_tenant(name="Acme", owner=people["owner"], plan="enterprise", orgs=2)
    tenant_b, _, (b1,) = make_tenant(name="Globex", owner=people["bowner"], plan="enterprise", orgs=1)
    orgs = {"A1": a1, "A2": a2, "B1": b1}
    tenants = {"A": tenant_a, "B": tenant_b}
    org_services.tenant_member_set(tenant=tenant_a, user=people["tadmin"], role="admin")
    for name, role in (("oadmin", "admin"), ("member", "member"), ("peer", "member"), ("viewer", "viewer")):
        add_member(a1, role, people[name])
    for name in ("demoted", "removed", "deactivated"):
        add_member(a1, "admin" if name == "demoted" else "member", people[name])
    add_member(a2, "member", people["sib"])
    add_member(b1, "member", people["bmember"])

    raw: dict[str, str] = {}
    targets: dict[str, ApiKey] = {}
    for t in spec.TARGETS:
        assert t.owner is not None
        tenant = tenants[spec.PEOPLE[t.owner].tenant]
        key, secret = make_key(
            user=people[t.owner],
            tenant=tenant,
            org=orgs[t.org] if t.org else None,
            name=f"rvD {t.name}",
            scopes=list(t.scopes),
        )
        targets[t.name], raw[t.name] = key, secret
    keys: dict[str, ApiKey] = {}
    for actor in spec.ACTORS:
        if not actor.is_key:
            continue
        tenant = tenants[actor.tenant]
        key, secret = make_key(
            user=people[actor.person],
            tenant=tenant,
            org=orgs[actor.org] if actor.org else None,
            name=f"rvD caller {actor.name}",
            key_type=actor.key_type,
            scopes=list(actor.scopes),
        )
        keys[actor.name], raw[actor.name] = key, secret
        if actor.dead == "revoked":
            key_services.apikey_revoke(api_key=key, actor=people[actor.person])
        elif actor.dead == "inactive":
            key_services.apikey_set_active(api_key=key, actor=people[actor.person], active=False)
        elif actor.dead == "expired":
            ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    raw["scim:A"] = scim_token_create(tenant=tenant_a, name="rvD scim", actor=people["owner"]).secret

    # Tenant A's identity provider, and the people it signs in.
    config = oidc_sso(tenant_a, people["owner"], idp)
    verified_domain(tenant_a, "acme.test")
    for actor in spec.ACTORS:
        if actor.kind == "idp":
            SocialAccount.objects.create(
                user=people[actor.person], provider=config.provider_id, uid=f"sub-{actor.person}"
            )

    # Every person signs in now; then the roles change under the open sessions.
    clients: dict[str, Client] = {}
    for actor in spec.ACTORS:
        if actor.kind == "session":
            client = Client()
            client.force_login(people[actor.person])
            clients[actor.name] = client
    org_services.org_member_set(organization=a1, user=people["demoted"], role="member")
    org_services.org_member_set(organization=a1, user=people["removed"], role=None)
    deactivated = people["deactivated"]
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])
    return World(tenants, orgs, people, targets, keys, raw, idp, clients)


@pytest.fixture(scope="module")
def w(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """One population for the module, in a transaction rolled back at its end."""
    with OIDCProvider() as idp, django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build(idp)
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


# --- Requests ------------------------------------------------------------------------------------
def _idp_token(w: World, person: str) -> str:
    now = int(time.time())
    claims = {"iss": w.idp.issuer, "aud": w.idp.client_id, "sub": f"sub-{person}", "iat": now, "exp": now + 300}
    return jwt.encode(claims, w.idp.key, algorithm="RS256", headers={"kid": w.idp.kid})


def _client(w: World, actor: spec.Actor, channel: str) -> tuple[Client, dict[str, str]]:
    """The client and headers that carry ``actor``'s credential on ``channel``."""
    if channel == "idp":
        return Client(), {"HTTP_AUTHORIZATION": f"Bearer {_idp_token(w, actor.person)}"}
    if actor.kind == "session":
        return w.clients[actor.name], {}
    if actor.kind in ("key", "scim"):
        header = "HTTP_AUTHORIZATION" if channel == "tatry" else "HTTP_X_API_KEY"
        value = f"Bearer {w.raw[actor.name]}" if channel == "tatry" else w.raw[actor.name]
        return Client(), {header: value}
    return Client(), {}


def _url(path: str, org: str | None, **query: str) -> str:
    params = {**({"organizationId": org} if org else {}), **query}
    return f"{path}?{urlencode(params)}" if params else path


def _ui_scopes(specs: tuple[str, ...]) -> dict[str, str]:
    have = spec.expand(specs)
    return {
        f"perm_{r}": "write" if f"{r}:write" in have else "read" if f"{r}:read" in have else "" for r in spec.RESOURCES
    }


def _send(w: World, actor: spec.Actor, channel: str, action: str, key_id: str, target: spec.Target, name: str) -> Any:
    client, headers = _client(w, actor, channel)
    org = w.org_id(spec.hint_for(actor, target))
    if channel in ("api", "idp"):
        base = f"/api/v1/keys/{key_id}/"
        body: dict[str, Any] | None = {
            "read": None,
            "usage": None,
            "narrow": {"scopes": list(spec.NARROWED)},
            "widen": {"scopes": list(spec.WIDENED)},
            "escalate": {"scopes": list(spec.ESCALATED)},
            "rotate": {"grace_period_seconds": 0},
            "revoke": {},
            "deactivate": {},
            "activate": {},
        }[action]
        if action == "read":
            return client.get(_url(base, org), **headers)
        if action == "usage":
            return client.get(_url(base + "usage/", org), **headers)
        if action in ("narrow", "widen", "escalate"):
            return client.patch(_url(base, org), data=json.dumps(body), content_type="application/json", **headers)
        return client.post(
            _url(base + f"{action}/", org), data=json.dumps(body), content_type="application/json", **headers
        )
    if channel == "bulk":  # the key list's "with selected" form, confirmed
        return client.post(_url("/keys/bulk/", org), {"action": action, "keys": key_id, "confirm": "on"})
    assert channel == "ui"
    base = f"/keys/{key_id}/"
    if action in ("read", "usage"):
        return client.get(_url(base, org))
    if action in ("narrow", "widen", "escalate"):
        wanted = {"narrow": spec.NARROWED, "widen": spec.WIDENED, "escalate": spec.ESCALATED}[action]
        form = {
            "name": name,
            "expires_in": "keep",
            "allowed_ips": "",
            "rate_limit": "",
            "usage_limit": "",
            "usage_refill": "",
            **_ui_scopes(wanted),
        }
        return client.post(_url(base + "edit/", org), form)
    form = {"grace_period_seconds": "0", "submit_token": secrets.token_urlsafe(8)} if action == "rotate" else {}
    return client.post(_url(base + f"{action}/", org), form)


# --- Reading an answer ------------------------------------------------------------------------------
def _json(response: Any) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except ValueError:
        return None


def _code(response: Any) -> str:
    data = _json(response)
    return data.get("error", "") if isinstance(data, dict) and isinstance(data.get("error"), str) else ""


def _kind(channel: str, response: Any) -> str:
    """The decision an answer shows: allow | deny | notfound | unauth | invalid | error."""
    status = response.status_code
    if status >= 500:
        return "error"
    if status == 404:
        return "notfound"
    if status == 401:
        return "unauth"
    if status == 403:
        return "deny"
    if channel in ("ui", "bulk"):
        if status == 302 and "/accounts/login/" in response.get("Location", ""):
            return "unauth"
        if status == 400:
            return "deny"  # a form shown again with the refusal (checked: nothing changed)
        return "allow" if status in (200, 302) else "invalid"
    return "allow" if 200 <= status < 300 else "invalid"


def _answer(channel: str, response: Any) -> tuple[int, str]:
    return response.status_code, _code(response) if channel not in ("ui", "bulk") else ""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(key_pk: int) -> tuple[Any, ...]:
    values = ApiKey.objects.filter(pk=key_pk).values_list("scopes", "is_active", "revoked_at", "digest", "name").get()
    scopes, active, revoked_at, digest, name = values
    return (spec.expand(list(scopes)), active, revoked_at is not None, digest, name)


def _secrets_problems(
    w: World, actor: spec.Actor, response: Any, allowed_secret: bool, owner_pk: int | None
) -> list[str]:
    """No key secret in an answer, but the new one in a create/rotate answer to its owner."""
    text = response.content.decode(errors="replace")
    found = set(SECRET.findall(text)) | {s for s in w.raw.values() if s in text}
    if not allowed_secret:
        return [f"a secret in a {response.status_code} answer: {sorted(found)[0][:12]}…"] if found else []
    known = [s for s in found if s in w.raw.values()]
    if known:
        return [f"a world key's secret in the answer: {known[0][:12]}…"]
    new = [s for s in found if ApiKey.objects.filter(digest=_digest(s)).exists()]
    if len(new) != 1:
        return [f"expected exactly one new secret in the answer, found {len(new)}"]
    key = ApiKey.objects.get(digest=_digest(new[0]))
    if key.owner_id != w.users[actor.person].pk or (owner_pk is not None and key.pk != owner_pk):
        return [f"secret of {key.owner.email}'s key {key.name!r} handed to {actor.person}"]
    return []


# --- One cell ---------------------------------------------------------------------------------------
@dataclass
class Result:
    kind: str
    answer: tuple[int, str]
    problems: list[str]


EFFECT = {
    "narrow": lambda before, after: after[0] == spec.expand(spec.NARROWED),
    "widen": lambda before, after: after[0] == spec.expand(spec.WIDENED),
    "escalate": lambda before, after: after[0] == spec.expand(spec.ESCALATED),
    "rotate": lambda before, after: after[3] != before[3],
    "revoke": lambda before, after: after[2],
    "deactivate": lambda before, after: after[1] is False,
    "activate": lambda before, after: after[1] is True,
}


def _run_key_cell(
    w: World, actor: spec.Actor, channel: str, action: str, target: spec.Target, want: spec.Outcome
) -> Result:
    reset_shared_state()
    with transaction.atomic():
        row = w.targets.get(target.name)
        key_id = row.public_id if row is not None else f"key-{'0' * 8}-0000-4000-8000-{'0' * 12}"
        if row is not None and action == "activate":
            ApiKey.objects.filter(pk=row.pk).update(is_active=False)
        write = action in spec.WRITES
        before = _row(row.pk) if row is not None and write else None
        count = ApiKey.objects.count() if write else 0
        response = _send(w, actor, channel, action, key_id, target, f"rvD {target.name}")
        after = _row(row.pk) if row is not None and write else None
        created = ApiKey.objects.count() - count if write else 0
        kind = _kind(channel, response)
        if channel == "bulk" and kind == "allow" and before is not None and after is not None:
            # Always back to the list: what happened is the key itself (and the message).
            kind = "allow" if EFFECT[action](before, after) else "refused"
        if channel == "bulk" and kind == "allow" and row is None:
            kind = "refused"
        problems: list[str] = []
        if kind in ("error", "invalid"):
            problems.append(f"{response.status_code}: {response.content[:200]!r}")
        elif want.kind != "open":
            if kind == "refused" and want.kind in ("deny", "notfound"):
                pass  # the bulk form reports a refusal and an unknown key alike: neither changes
            elif kind != want.kind:
                problems.append(f"{kind} ({response.status_code} {_code(response)}), expected {want.kind}: {want.why}")
            elif channel not in ("ui", "bulk") and want.code and _code(response) != want.code:
                problems.append(f"code {_code(response)!r}, expected {want.code!r} ({want.why})")
        if created:
            problems.append(f"{created} key(s) created by a {action}")
        if before is not None and after is not None and action in EFFECT:
            changed = before != after
            if kind == "allow" and not EFFECT[action](before, after):
                problems.append(f"answered as allowed, but the key did not {action}: {before} -> {after}")
            if kind != "allow" and changed:
                problems.append(f"refused ({response.status_code}), yet the key changed: {before} -> {after}")
            if kind == "allow" and action != "rotate" and before[3] != after[3]:
                problems.append("the key's secret changed")
        owner_secret = kind == "allow" and action == "rotate"
        problems += _secrets_problems(w, actor, response, owner_secret, row.pk if row is not None else None)
        transaction.set_rollback(True)
    return Result(kind, _answer(channel, response), problems)


def _channels(actor: spec.Actor, action: str) -> tuple[str, ...]:
    """Where ``actor`` tries ``action``: a person on the API, the key pages (the key page is
    the usage page too), with their identity-provider token, and the list's bulk form (which
    revokes and deactivates alike); a key, a SCIM token or nobody on the API."""
    if actor.kind != "session":
        return ("api",)
    channels = ["api", "ui"] if action != "usage" else ["api"]
    if f"idp:{actor.person}" in spec.ACTOR and action in IDP_ACTIONS:
        channels.append("idp")
    if action == "revoke":
        channels.append("bulk")
    return tuple(channels)


# A person's identity-provider token is checked on these (the others take the same paths).
IDP_ACTIONS = frozenset({"read", "widen", "rotate", "activate"})


def _targets(actor: spec.Actor, channel: str, action: str) -> list[spec.Target]:
    # The API's read probes every target; other channels one of each kind (key_matrix_spec).
    return spec.targets_for(actor, action, full=None if channel == "api" else False)


ACTION_ACTORS = [a for a in spec.ACTORS if a.kind != "idp"]  # idp tokens ride with their person's session


def _refused_before_objects(actor: spec.Actor, action: str) -> bool:
    return all(
        spec.expect(actor, action, t).kind != "allow"
        and spec.expect(actor, action, t) == spec.expect(actor, action, spec.GHOST)
        for t in spec.TARGETS
    )


# A caller refused before any key is looked up (authentication, key type) gets the same
# answer for every action: one of each verb (GET, PATCH, POST) is run for it. A key's
# escalation beyond its owner's role is refused as any widening through a key is (widen).
ACTION_CELLS = [
    (actor, action)
    for actor in ACTION_ACTORS
    for action in spec.KEY_ACTIONS
    if action in ("read", "narrow", "revoke")
    or (
        not all(_refused_before_objects(actor, a) for a in spec.KEY_ACTIONS)
        # Through a key, escalating is widening (refused alike): only people try both.
        and not (action == "escalate" and actor.is_key)
    )
]


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "action"), ACTION_CELLS, ids=[f"{a.name}-{b}" for a, b in ACTION_CELLS])
def test_key_action(w: World, actor: spec.Actor, action: str) -> None:
    problems: list[str] = []
    results: dict[tuple[str, str], Result] = {}
    channels = _channels(actor, action)
    for channel in channels:
        who = spec.ACTOR[f"idp:{actor.person}"] if channel == "idp" else actor
        for target in _targets(actor, channel, action):
            wanted = {"widen": spec.WIDENED, "escalate": spec.ESCALATED}.get(action)
            if wanted and spec.expand(wanted) <= spec.expand(target.scopes):
                continue  # nothing to widen on a key that already holds more
            want = spec.expect(who, action, target)
            result = _run_key_cell(w, who, channel, action, target, want)
            results[channel, target.name] = result
            problems += [f"{channel:<4} {target.name:<18} {p}" for p in result.problems]
    # Existence is not told: a key out of reach answers as a made-up id does, on each channel.
    for channel in channels:
        ghost = results[channel, spec.GHOST.name]
        for target in spec.TARGETS:
            got = results.get((channel, target.name))
            if got is not None and got.kind == "notfound" and got.answer != ghost.answer:
                problems.append(f"{channel:<4} {target.name:<18} answers {got.answer}, a made-up id {ghost.answer}")
            if got is not None and ghost.kind != "notfound" and got.kind != "allow" and got.answer != ghost.answer:
                # Refused before the key was looked up: the same answer whichever key is named.
                problems.append(f"{channel:<4} {target.name:<18} answers {got.answer}, a made-up id {ghost.answer}")
    # The same person gets the same decision on every channel (allowed, or refused).
    for target in (*spec.TARGETS, spec.GHOST):
        kinds = {ch: results[ch, target.name].kind for ch in channels if (ch, target.name) in results}
        if len({kind == "allow" for kind in kinds.values()}) > 1:
            problems.append(f"     {target.name:<18} channels disagree: {kinds}")
    assert not problems, f"{actor.name} × {action}:\n" + "\n".join(problems)


# --- Lists: which keys a caller sees (API, the key list page, Tatry's list) -------------------------
def _list_orgs(actor: spec.Actor) -> list[str | None]:
    """The orgs a caller lists keys in: a person's every org, a bound key's own, an unbound
    key's each org of its tenant (SPEC §4: the hint picks it)."""
    if actor.is_person:
        return list(spec.reachable_orgs(actor.person)) or [None]
    if actor.is_key and actor.org is None:
        return [o for o, t in spec.ORG_TENANT.items() if t == actor.tenant]
    return [actor.org]


def _listed(w: World, channel: str, response: Any) -> set[str]:
    text = response.content.decode(errors="replace")
    return {name for name, key in w.targets.items() if key.public_id in text}


def _list_request(w: World, actor: spec.Actor, channel: str, org: str | None) -> Any:
    client, headers = _client(w, actor, channel)
    hint = w.org_id(org) if (actor.is_person or (actor.is_key and actor.org is None)) else None
    path = {"api": "/api/v1/keys/", "idp": "/api/v1/keys/", "ui": "/keys/", "tatry": "/v1/auth/keys"}[channel]
    query = {"limit": "200"} if channel != "ui" else {}
    return client.get(_url(path, hint, **query), **headers)


def _list_channels(actor: spec.Actor) -> tuple[str, ...]:
    if actor.kind == "session":
        return ("api", "ui", "idp") if f"idp:{actor.person}" in spec.ACTOR else ("api", "ui")
    if actor.is_key or actor.kind == "scim":
        return ("api", "tatry")
    return ("api",)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTION_ACTORS, ids=lambda a: a.name)
def test_key_list(w: World, actor: spec.Actor) -> None:
    problems: list[str] = []
    for channel in _list_channels(actor):
        who = spec.ACTOR[f"idp:{actor.person}"] if channel == "idp" else actor
        for org in _list_orgs(actor):
            reset_shared_state()
            response = _list_request(w, who, channel, org)
            refused, _ = spec.before_objects(who, "list", org)
            kind = _kind(channel, response)
            where = f"{channel:<5} in {org}"
            problems += [f"{where}: {p}" for p in _secrets_problems(w, who, response, False, None)]
            if refused is not None:
                if refused.kind != "open" and kind != refused.kind:
                    problems.append(
                        f"{where}: {kind} ({response.status_code} {_code(response)}), expected {refused.kind}"
                    )
                elif channel not in ("ui", "tatry") and refused.code and _code(response) != refused.code:
                    problems.append(f"{where}: code {_code(response)!r}, expected {refused.code!r}")
                if _listed(w, channel, response):
                    problems.append(f"{where}: refused, yet lists {sorted(_listed(w, channel, response))}")
                continue
            if kind != "allow":
                problems.append(f"{where}: {response.status_code} {_code(response)}, expected the list")
                continue
            listed = _listed(w, channel, response)
            for target in spec.TARGETS:
                want = spec.list_expectation(who, org, target)
                if want == "Y" and target.name not in listed:
                    problems.append(f"{where}: does not list {target.name}, which it reaches")
                if want == "." and target.name in listed:
                    problems.append(f"{where}: lists {target.name}, outside its reach")
    assert not problems, f"{actor.name} lists keys:\n" + "\n".join(problems)


# --- The audit log: whose keys' history a caller reads -------------------------------------------------
def _audit_request(w: World, actor: spec.Actor, channel: str, org: str | None) -> Any:
    client, headers = _client(w, actor, channel)
    hint = w.org_id(org) if (actor.is_person or (actor.is_key and actor.org is None)) else None
    if channel == "ui":
        return client.get(_url("/activity/export.csv", hint, action="api_key.created"))
    return client.get(_url("/api/v1/audit-log/", hint, action="api_key.created", limit="500"), **headers)


def _text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTION_ACTORS, ids=lambda a: a.name)
def test_key_audit(w: World, actor: spec.Actor) -> None:
    problems: list[str] = []
    channels = ("api", "ui") if actor.kind == "session" else ("api",)
    for channel in channels:
        for org in _list_orgs(actor):
            reset_shared_state()
            response = _audit_request(w, actor, channel, org)
            text = _text(response)
            seen = {name for name, key in w.targets.items() if key.public_id in text}
            refused, _ = spec.before_objects(actor, "audit", org)
            kind = _kind(channel, response)
            where = f"{channel:<3} in {org}"
            if SECRET.search(text) or any(s in text for s in w.raw.values()):
                problems.append(f"{where}: a key secret in the audit log")
            if refused is not None:
                if refused.kind != "open" and kind != refused.kind:
                    problems.append(
                        f"{where}: {kind} ({response.status_code} {_code(response)}), expected {refused.kind}"
                    )
                if seen:
                    problems.append(f"{where}: refused, yet shows entries of {sorted(seen)}")
                continue
            if kind != "allow":
                problems.append(f"{where}: {response.status_code} {_code(response)}, expected the audit log")
                continue
            for target in spec.TARGETS:
                want = spec.audit_expectation(actor, org, target)
                if want == "Y" and target.name not in seen:
                    problems.append(f"{where}: does not show the creation of {target.name}")
                if want == "." and target.name in seen:
                    problems.append(f"{where}: shows the creation of {target.name}, outside its reach")
    assert not problems, f"{actor.name} reads the audit log:\n" + "\n".join(problems)


# --- Creating keys -------------------------------------------------------------------------------------
CREATE_BODIES: dict[str, dict[str, Any]] = {
    "create": {"name": "rvD new", "scopes": list(spec.BIZ)},
    "create-all": {"name": "rvD new", "scopes": ["*"]},
    "create-unbound": {"name": "rvD new", "scopes": list(spec.BIZ), "unbound": True},
    "create-default": {"name": "rvD new"},
}


def _ui_create_form(kind: str) -> dict[str, str]:
    form = {
        "type": "standard",
        "name": "rvD new",
        "binding": "unbound" if kind == "create-unbound" else "org",
        "expires_in": "",
        "allowed_ips": "",
        "rate_limit": "",
        "usage_limit": "",
        "usage_refill": "",
        "submit_token": secrets.token_urlsafe(8),
    }
    if kind == "create-default":
        return {**form, "preset": "full"}  # "Full access": as far as your role allows
    scopes = ("*",) if kind == "create-all" else spec.BIZ
    wanted = _ui_scopes(scopes)
    if kind == "create-all":
        wanted["perm_audit"] = "read"  # the audit log is append-only: read is all there is
    return {**form, "preset": "limited", **wanted}


def _create_channels(actor: spec.Actor) -> tuple[str, ...]:
    if actor.kind == "session":
        return ("api", "ui", "idp") if f"idp:{actor.person}" in spec.ACTOR else ("api", "ui")
    return ("api",)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", spec.CREATES)
@pytest.mark.parametrize("actor", ACTION_ACTORS, ids=lambda a: a.name)
def test_key_create(w: World, actor: spec.Actor, kind: str) -> None:
    problems: list[str] = []
    decisions: dict[str, bool] = {}
    for channel in _create_channels(actor):
        who = spec.ACTOR[f"idp:{actor.person}"] if channel == "idp" else actor
        want, perms = spec.expect_create(who, kind)
        org = who.org if who.is_key else spec.home_org(who.person)
        hint = w.org_id(org) if who.is_person else (w.org_id("A1") if who.is_key and who.org is None else None)
        reset_shared_state()
        with transaction.atomic():
            before = set(ApiKey.objects.values_list("pk", flat=True))
            client, headers = _client(w, who, channel)
            if channel == "ui":
                response = client.post(_url("/keys/new/", hint), _ui_create_form(kind))
            else:
                body = json.dumps(CREATE_BODIES[kind])
                response = client.post(
                    _url("/api/v1/keys/", hint), data=body, content_type="application/json", **headers
                )
            new = ApiKey.objects.exclude(pk__in=before)
            made = list(new.values_list("owner_id", "organization_id", "scopes"))
            got = _kind(channel, response)
            decisions[channel] = got == "allow"
            where = f"{channel:<4}"
            if got in ("error", "invalid"):
                problems.append(f"{where} {response.status_code}: {response.content[:200]!r}")
            elif want.kind != "open" and got != want.kind:
                problems.append(
                    f"{where} {got} ({response.status_code} {_code(response)}), expected {want.kind}: {want.why}"
                )
            elif channel != "ui" and want.kind != "open" and want.code and _code(response) != want.code:
                problems.append(f"{where} code {_code(response)!r}, expected {want.code!r}")
            if got == "allow":
                if len(made) != 1:
                    problems.append(f"{where} allowed, {len(made)} keys made")
                else:
                    owner_id, org_id, scopes = made[0]
                    expected_org = None if kind == "create-unbound" else w.orgs[org].pk if org else None
                    if owner_id != w.users[who.person].pk:
                        problems.append(f"{where} the new key belongs to someone else")
                    if org_id != expected_org:
                        problems.append(f"{where} the new key is bound to org pk {org_id}, expected {expected_org}")
                    if channel == "ui" and kind == "create-all":
                        perms = perms - {"audit:write"}  # the page offers no write on the append-only log
                    if want.kind != "open" and spec.expand(list(scopes)) != perms:
                        problems.append(
                            f"{where} the new key carries {sorted(spec.expand(list(scopes)))}, expected {sorted(perms)}"
                        )
            elif made:
                problems.append(f"{where} refused ({response.status_code}), yet {len(made)} key(s) made")
            new_pk = new.values_list("pk", flat=True).first()
            problems += [f"{where} {p}" for p in _secrets_problems(w, who, response, got == "allow", new_pk)]
            transaction.set_rollback(True)
    if len(set(decisions.values())) > 1:
        problems.append(f"channels disagree: {decisions}")
    assert not problems, f"{actor.name} × {kind}:\n" + "\n".join(problems)


# --- Credential exchange: Taffy's POST /auth/token and the core's POST /api/v1/auth/token -------------
EXCHANGERS = [p for p in spec.PEOPLE if p != "bowner"]


@pytest.mark.django_db
@pytest.mark.parametrize("scopes", [None, spec.BIZ, ("*",)], ids=["default", "biz", "all"])
@pytest.mark.parametrize("policy", spec.EXCHANGE_POLICIES)
@pytest.mark.parametrize("person", EXCHANGERS)
def test_exchange(w: World, person: str, policy: str, scopes: tuple[str, ...] | None) -> None:
    want = spec.expect_exchange(person, policy, scopes)
    org = spec.home_org(person)
    problems: list[str] = []
    decisions: dict[str, bool] = {}
    for channel, path in (("taffy", "/auth/token"), ("exchange", "/api/v1/auth/token")):
        reset_shared_state()
        with transaction.atomic():
            Tenant.objects.update(token_exchange_policy=policy)
            before = set(ApiKey.objects.values_list("pk", flat=True))
            email_field = "username" if channel == "taffy" else "email"
            body: dict[str, Any] = {email_field: w.users[person].email, "password": PASSWORD}
            if org:
                body["organizationId"] = w.org_id(org)
            if scopes is not None:
                body["scopes"] = list(scopes)
            response = Client().post(path, data=json.dumps(body), content_type="application/json")
            made = list(
                ApiKey.objects.exclude(pk__in=before).values_list("pk", "owner_id", "organization_id", "scopes")
            )
            got = _kind(channel, response)
            decisions[channel] = got == "allow"
            if got in ("error", "invalid"):
                problems.append(f"{channel}: {response.status_code} {response.content[:200]!r}")
            elif want.kind != "open" and got != want.kind:
                problems.append(f"{channel}: {got} ({response.status_code}), expected {want.kind}: {want.why}")
            if got == "allow":
                if len(made) != 1:
                    problems.append(f"{channel}: allowed, {len(made)} keys made")
                else:
                    _, owner_id, org_id, key_scopes = made[0]
                    if owner_id != w.users[person].pk or org_id != w.orgs[org].pk:  # type: ignore[index]
                        problems.append(f"{channel}: the new key is someone else's or in another org")
                    wanted = spec.role_perms(person, org) if scopes is None else spec.expand(scopes)
                    if spec.expand(list(key_scopes)) != wanted:
                        # §2a Defaults: omitted scopes are the person's own effective permissions.
                        problems.append(f"{channel}: the new key carries {sorted(spec.expand(list(key_scopes)))}")
            elif made:
                problems.append(f"{channel}: refused, yet a key was made")
            new_pk = made[0][0] if len(made) == 1 else None
            caller = spec.Actor(f"password:{person}", "session", person)
            problems += [f"{channel}: {p}" for p in _secrets_problems(w, caller, response, got == "allow", new_pk)]
            transaction.set_rollback(True)
    if len(set(decisions.values())) > 1:
        problems.append(f"channels disagree: {decisions}")
    assert not problems, f"{person} exchanges credentials under policy {policy!r}:\n" + "\n".join(problems)
