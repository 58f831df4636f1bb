"""SPEC §2a "Who may act on which key", as a table: actors × target keys × actions.

The expectations below are written from SPEC §1 (roles), §2 (keys, scopes, binding,
effective permissions), §2a (who may act on which key), §3 (error catalog), §4 (org
resolution), §5 (endpoints), §5a (seed surfaces) and §13 (SCIM tokens, deprovisioning).
Nothing here is imported from the application: no policy, role map, scope module or view.
``test_review_s40_key_matrix`` runs the cells (``targets_for``) on every channel that has the action
(``/api/v1/``, the Django pages, Tatry's key list, Taffy's and the core's credential
exchange) and checks the answer and the database against ``expect``.

Where the SPEC does not decide a cell, the outcome is ``OPEN`` with the question: the cell
is still run, and must hold the invariants that do not depend on the answer (no 5xx, no
secret to anyone but the key's owner, the same answer on every channel and for a made-up
id when refused, nothing changed when refused). ``open_questions()`` lists them for the
report.

The world (``_build`` in the test module makes exactly this):

- tenant A (orgs A1, A2), tenant B (org B1);
- people: ``owner`` (A's tenant owner), ``tadmin`` (A's tenant admin), ``oadmin`` (admin of
  A1), ``member`` and ``peer`` (members of A1), ``viewer`` (viewer of A1), ``sib`` (member
  of the sibling org A2), ``bmember`` (member of B1, the other tenant), ``demoted`` (admin
  of A1 when their session started and their ``*`` key was made, since demoted to member),
  ``removed`` (member of A1 when their session started and their key was made, since
  removed from A1), ``deactivated`` (member of A1 whose account was since deactivated);
- target keys (``TARGETS``) and calling credentials (``ACTORS``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# --- SPEC §1–§2: scopes and roles --------------------------------------------------------
RESOURCES = ("organizations", "members", "keys", "audit", "scans")
ALL = frozenset(f"{r}:{a}" for r in RESOURCES for a in ("read", "write"))
READ = frozenset(f"{r}:read" for r in RESOURCES)
# §1: tenant owner/admin: everything in every org; org admin: members, keys, settings, audit;
# member: read, write business data, own keys; viewer: read only, no audit log.
ROLE_PERMS: dict[str, frozenset[str]] = {
    "tenant owner": ALL,
    "tenant admin": ALL,
    "org admin": ALL,
    "member": READ | {"scans:write", "keys:write"},
    "viewer": READ - {"audit:read"},
}


def expand(specs: tuple[str, ...] | list[str]) -> frozenset[str]:
    """§2: ``*``, ``*:read``, and write implies read."""
    out: set[str] = set()
    for spec in specs:
        if spec == "*":
            out |= ALL
        elif spec == "*:read":
            out |= READ
        else:
            out.add(spec)
            if spec.endswith(":write"):
                out.add(spec.replace(":write", ":read"))
    return frozenset(out)


ORG_TENANT = {"A1": "A", "A2": "A", "B1": "B"}


@dataclass(frozen=True)
class Person:
    tenant: str
    tenant_role: str | None
    org_roles: tuple[tuple[str, str], ...]  # their roles *now*
    active: bool = True
    email_domain: str = "acme.test"


PEOPLE: dict[str, Person] = {
    "owner": Person("A", "tenant owner", ()),
    "tadmin": Person("A", "tenant admin", ()),
    "oadmin": Person("A", None, (("A1", "org admin"),)),
    "member": Person("A", None, (("A1", "member"),)),
    "peer": Person("A", None, (("A1", "member"),)),
    "viewer": Person("A", None, (("A1", "viewer"),)),
    "sib": Person("A", None, (("A2", "member"),)),
    "bmember": Person("B", None, (("B1", "member"),), email_domain="globex.test"),
    "bowner": Person("B", "tenant owner", (), email_domain="globex.test"),
    "demoted": Person("A", None, (("A1", "member"),)),  # was org admin of A1
    "removed": Person("A", None, ()),  # was member of A1
    "deactivated": Person("A", None, (("A1", "member"),), active=False),
}


def roles_in(person: str, org: str | None) -> list[str]:
    p = PEOPLE[person]
    if org is None or ORG_TENANT[org] != p.tenant or not p.active:
        return []
    return [r for r in (p.tenant_role, dict(p.org_roles).get(org)) if r]


def role_perms(person: str, org: str | None) -> frozenset[str]:
    """What the person's current roles allow in ``org`` (None: tenant-wide, which only the
    tenant owner holds: unbound keys are owner-only, §1)."""
    if org is None:
        p = PEOPLE[person]
        return ALL if p.active and p.tenant_role == "tenant owner" else frozenset()
    out: frozenset[str] = frozenset()
    for role in roles_in(person, org):
        out |= ROLE_PERMS[role]
    return out


def administers(person: str, org: str) -> bool:
    return bool({"tenant owner", "tenant admin", "org admin"} & set(roles_in(person, org)))


def is_tenant_owner(person: str) -> bool:
    return PEOPLE[person].tenant_role == "tenant owner" and PEOPLE[person].active


def reachable_orgs(person: str) -> list[str]:
    return [org for org in ("A1", "A2", "B1") if roles_in(person, org)]


def home_org(person: str) -> str | None:
    orgs = reachable_orgs(person)
    return orgs[0] if orgs else None


# --- Target keys -----------------------------------------------------------------------------
BIZ = ("scans:read", "organizations:read")  # a business-data key: what most targets carry
NARROWED = ("scans:read",)
WIDENED = ("scans:read", "organizations:read", "scans:write")  # within a member's role
# Beyond a member's role: everything a key can carry (the audit log is read-only).
ESCALATED = ("organizations:write", "members:write", "keys:write", "audit:read", "scans:write")


@dataclass(frozen=True)
class Target:
    name: str
    owner: str | None  # None: the made-up id (no such key)
    org: str | None  # None: unbound
    scopes: tuple[str, ...] = BIZ

    @property
    def tenant(self) -> str | None:
        return PEOPLE[self.owner].tenant if self.owner else None


TARGETS: tuple[Target, ...] = (
    Target("owner.A1", "owner", "A1"),
    Target("owner.A2", "owner", "A2"),
    Target("owner.unbound", "owner", None),
    Target("oadmin.A1", "oadmin", "A1"),
    Target("member.A1", "member", "A1"),
    Target("member.A1.upload", "member", "A1", ("scans:write",)),  # beyond member/narrow's reach
    Target("peer.A1", "peer", "A1"),
    Target("demoted.A1", "demoted", "A1"),
    Target("sib.A2", "sib", "A2"),
    Target("bmember.B1", "bmember", "B1"),
)
GHOST = Target("made-up id", None, None)  # a well-formed id no key has
TARGET = {t.name: t for t in TARGETS}


# --- Actors: who calls, with which credential ----------------------------------------------------
@dataclass(frozen=True)
class Actor:
    name: str
    kind: str  # session | idp | key | scim | anonymous
    person: str = "owner"
    org: str | None = None  # key binding (None: unbound)
    scopes: tuple[str, ...] = ()
    key_type: str = "standard"
    dead: str = ""  # revoked | expired | inactive (the key's own state)

    @property
    def is_key(self) -> bool:
        return self.kind == "key"

    @property
    def is_person(self) -> bool:
        return self.kind in ("session", "idp")

    @property
    def tenant(self) -> str:
        return PEOPLE[self.person].tenant


MEMBER_ROLE_SPECS = ("*:read", "scans:write", "keys:write")  # what a member's "Full" key carries

ACTORS: tuple[Actor, ...] = (
    Actor("anonymous", "anonymous"),
    *(
        Actor(f"session:{p}", "session", p)
        for p in (
            "owner",
            "tadmin",
            "oadmin",
            "member",
            "viewer",
            "sib",
            "bmember",
            "demoted",
            "removed",
            "deactivated",
        )
    ),
    # An identity-provider token (§3) is a person like a session (§2a "The caller is a person
    # (session or identity-provider token)").
    *(Actor(f"idp:{p}", "idp", p) for p in ("owner", "oadmin", "member", "viewer", "removed", "deactivated")),
    Actor("key:owner/A1/*", "key", "owner", "A1", ("*",)),
    Actor("key:owner/unbound/*", "key", "owner", None, ("*",)),
    # An org admin's key acts only on keys of its own owner (§2a "A key's reach"), never on
    # the keys the admin's session may manage.
    Actor("key:oadmin/A1/*", "key", "oadmin", "A1", ("*",)),
    Actor("key:member/A1/full", "key", "member", "A1", MEMBER_ROLE_SPECS),
    # Narrow: may create and manage keys, reads business data; no scans:write.
    Actor("key:member/A1/narrow", "key", "member", "A1", ("keys:write", "scans:read", "organizations:read")),
    Actor("key:member/A1/read", "key", "member", "A1", ("*:read",)),
    Actor("key:sib/A2/full", "key", "sib", "A2", MEMBER_ROLE_SPECS),
    # Made with "*" while its owner was org admin; the owner is a member now (§2: effective =
    # key scopes ∩ the owner's current role).
    Actor("key:demoted/A1/*", "key", "demoted", "A1", ("*",)),
    Actor("key:removed/A1", "key", "removed", "A1", MEMBER_ROLE_SPECS),
    Actor("key:deactivated/A1", "key", "deactivated", "A1", MEMBER_ROLE_SPECS),
    Actor("key:owner/agent", "key", "owner", "A1", ("scans:write",), key_type="agent"),
    Actor("key:owner/public", "key", "owner", "A1", ("*:read",), key_type="public"),
    Actor("key:owner/revoked", "key", "owner", "A1", ("*",), dead="revoked"),
    Actor("key:owner/expired", "key", "owner", "A1", ("*",), dead="expired"),
    Actor("key:owner/inactive", "key", "owner", "A1", ("*",), dead="inactive"),
    Actor("scim:A", "scim", "owner"),
)
ACTOR = {a.name: a for a in ACTORS}


# --- Actions --------------------------------------------------------------------------------
# On one target key (by id):
KEY_ACTIONS = ("read", "usage", "narrow", "widen", "escalate", "rotate", "revoke", "deactivate", "activate")
WRITES = frozenset({"narrow", "widen", "escalate", "rotate", "revoke", "deactivate", "activate"})
# Not on a target: list (which targets appear), audit (whose creation entries appear), create.
CREATES = ("create", "create-all", "create-unbound", "create-default")


def needed_scope(action: str) -> str:
    if action in ("read", "usage", "list"):
        return "keys:read"
    if action == "audit":
        return "audit:read"
    return "keys:write"


# --- Outcomes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    kind: str  # allow | deny | notfound | unauth | open
    status: int = 0  # the API's status ("open": 0)
    code: str = ""  # the catalog code ("" when the SPEC does not fix it)
    why: str = ""
    secret: bool = False  # the answer carries a new secret (for the caller, its owner)

    @property
    def allowed(self) -> bool:
        return self.kind == "allow"


def allow(why: str, *, status: int = 200, secret: bool = False) -> Outcome:
    return Outcome("allow", status, why=why, secret=secret)


def deny(why: str, code: str = "PERMISSION_DENIED") -> Outcome:
    return Outcome("deny", 403, code, why)


def notfound(why: str) -> Outcome:
    return Outcome("notfound", 404, "NOT_FOUND", why)


def unauth(why: str, code: str = "") -> Outcome:
    return Outcome("unauth", 401, code, why)


def open_(question: str) -> Outcome:
    return Outcome("open", why=question)


# --- Authentication and org resolution (§3, §4) ------------------------------------------------
def hint_for(actor: Actor, target: Target | None) -> str | None:
    """The organizationId the caller sends: a person names the target's org when they reach
    it, else their own org (an attacker cannot pick an org they do not reach, §4); a key
    bound to an org sends none; an unbound key names the target's org (§4: the hint picks
    it) when the target is bound in its tenant, else none."""
    if actor.is_person:
        if target is not None and target.org is not None and roles_in(actor.person, target.org):
            return target.org
        return home_org(actor.person)
    if actor.is_key and actor.org is None and target is not None and target.org is not None:
        return target.org if ORG_TENANT[target.org] == actor.tenant else None
    return None


def before_objects(actor: Actor, action: str, org: str | None) -> tuple[Outcome | None, frozenset[str]]:
    """The answer given before any object is looked up (authentication, key type, org
    resolution, scope), or None; and the caller's effective permissions in ``org``."""
    if actor.kind == "anonymous":
        return unauth("no key, no session", "UNAUTHORIZED"), frozenset()
    if actor.kind == "scim":
        # §13: a SCIM token is its own type, admitted at /scim/v2/ only; to /api/v1/ it is no key.
        return unauth("a SCIM token is not an API key", "UNAUTHORIZED"), frozenset()
    if actor.is_key:
        if actor.dead:
            code = {"revoked": "KEY_REVOKED", "expired": "KEY_EXPIRED", "inactive": "KEY_INACTIVE"}[actor.dead]
            return unauth(f"{actor.dead} key", code), frozenset()
        if not PEOPLE[actor.person].active:
            # §13: deprovisioned, "their keys stop working on the next request".
            return unauth("the key's owner was deactivated"), frozenset()
        if actor.org is not None and not roles_in(actor.person, actor.org):
            # §2: "removing the owner ... kills the key".
            return unauth("the key's owner was removed from its org"), frozenset()
        if actor.key_type != "standard":
            # §2a: public keys: no keys, members or audit log; §2/§5: agents only where admitted.
            return deny(f"{actor.key_type} keys are not admitted here", "KEY_TYPE_NOT_ALLOWED"), frozenset()
        if actor.org is None:
            perms = expand(actor.scopes) & role_perms(actor.person, None)
        else:
            perms = expand(actor.scopes) & role_perms(actor.person, actor.org)
    else:
        if not PEOPLE[actor.person].active:
            return unauth("a deactivated account's sessions end (§13)", "UNAUTHORIZED"), frozenset()
        if org is None:
            return (
                open_(
                    "a person who belongs to no organization any more: refused (403 WORKSPACE_ACCESS_DENIED "
                    "or 404), the SPEC names no code; the same answer for a made-up id"
                ),
                frozenset(),
            )
        perms = role_perms(actor.person, org)
    scope = needed_scope(action)
    if scope not in perms:
        return deny(f"lacks {scope}"), perms
    return None, perms


# --- SPEC §2a: reach and the rule of each action ---------------------------------------------
def reaches(actor: Actor, target: Target, org: str | None, perms: frozenset[str]) -> bool:
    if target.owner is None or target.tenant != actor.tenant:
        return False  # §1: a foreign object is a 404
    if actor.is_key:
        # "An API key acts only on keys of its own owner that are bound to its own org (an
        # org-bound key never touches, creates or sees unbound keys or keys of other orgs)
        # and whose scopes lie within its own effective permissions. An unbound key (tenant
        # owner only) reaches all of its owner's keys."
        if target.owner != actor.person:
            return False
        if actor.org is not None and target.org != actor.org:
            return False
        return expand(target.scopes) <= perms
    # A person: their own keys; "Tenant owners/admins and org admins may list, view ... the
    # keys of orgs they administer"; unbound keys belong to no org: the tenant owner's.
    if target.org is None:
        return is_tenant_owner(actor.person)
    if target.org != org:
        return False  # another org than the one the request works in (§4)
    return target.owner == actor.person or administers(actor.person, target.org)


def expect(actor: Actor, action: str, target: Target) -> Outcome:
    """What the SPEC answers ``actor`` doing ``action`` to ``target`` (by its id)."""
    org = hint_for(actor, target) if actor.is_person else (actor.org or hint_for(actor, target))
    refused, perms = before_objects(actor, action, org)
    if refused is not None:
        return refused
    if not reaches(actor, target, org, perms):
        return notfound("outside the caller's reach (§2a), existence not told (§1)")
    owns = target.owner == actor.person
    note = ""
    if actor.is_key and actor.org is None and target.org is None:
        note = " (an unbound key by id, no hint: §2a 'reaches all of its owner's keys')"
    if action in ("read", "usage", "narrow", "revoke", "deactivate"):
        # "Admins ... may list, view (never the secret), deactivate, revoke and narrow".
        return allow(f"{action} within reach{note}")
    if action == "rotate":
        if not owns:
            return deny("a key is only ever rotated by its owner (secrets go only to owners)")
        return allow(f"the owner rotates{note}", secret=True)
    if action in ("widen", "escalate"):
        if actor.is_key:
            return deny("through an API key restrictions only tighten")
        if not owns:
            return deny("admins never widen another person's key")
        if not expand(WIDENED if action == "widen" else ESCALATED) <= role_perms(actor.person, target.org):
            return deny("a key never has more than its owner's role (§2: effective = scopes ∩ role)")
        if actor.kind == "idp":
            return open_("widening needs 'the owner's signed-in session': is an identity-provider token one?")
        return allow("the owner's signed-in session widens within the owner's role")
    if action == "activate":
        if actor.is_key:
            return open_("reactivation through an API key: is giving access back a widening (§2a 'keys only narrow')?")
        if not owns:
            # §2a lists what admins may do to another person's key: list, view, deactivate,
            # revoke and narrow; reactivating is not among them.
            return deny("admins may deactivate, revoke and narrow another person's key, not reactivate it")
        if actor.kind == "idp":
            return open_("reactivation from an identity-provider token (a person, but not a signed-in session)")
        return allow("the owner reactivates")
    raise KeyError(action)


def expect_create(actor: Actor, kind: str) -> tuple[Outcome, frozenset[str]]:
    """POST keys/ in the caller's org: (outcome, the new key's expected permissions)."""
    org = actor.org if actor.is_key else home_org(actor.person)
    refused, perms = before_objects(actor, "create", org)
    if refused is not None:
        return refused, frozenset()
    if actor.is_key and actor.org is None:
        # §4: write endpoints require an org-scoped key unless they declare otherwise.
        return unauth("an unbound key may not scope a write to an org", "UNAUTHORIZED"), frozenset()
    if kind == "create-unbound":
        if actor.is_key:
            return deny("creating unbound keys needs the owner's signed-in session"), frozenset()
        if not is_tenant_owner(actor.person):
            return deny("unbound keys are the tenant owner's only (§1, §2)"), frozenset()
        if actor.kind == "idp":
            return open_("an unbound key from an identity-provider token ('the owner's signed-in session'?)"), BIZ_SET
        return allow("the tenant owner's session makes an unbound key", status=201, secret=True), BIZ_SET
    requested = {"create": BIZ_SET, "create-all": ALL, "create-default": perms}[kind]
    if not requested <= perms:
        return deny("a key can never be created with more than its creator has (§2)"), frozenset()
    # §2a "Defaults": a create without scopes gets the caller's own effective permissions.
    return allow("within the creator's effective permissions", status=201, secret=True), requested


BIZ_SET = expand(BIZ)


def list_expectation(actor: Actor, org: str | None, target: Target) -> str:
    """GET keys/ in ``org``: "Y" listed, "." never listed, "?" open."""
    refused, perms = before_objects(actor, "list", org)
    if refused is not None:
        return "."
    if target.org is not None and target.org != org:
        return "."
    if not reaches(actor, target, org, perms):
        return "."
    if target.org is None:
        return "?"  # does an org's list show its owner's unbound keys? (§4 picks one org)
    return "Y"


def audit_expectation(actor: Actor, org: str | None, target: Target) -> str:
    """Is the target's ``api_key.created`` entry in the audit log the caller reads in ``org``?
    "Y" it is, "." never, "?" open."""
    if target.tenant != actor.tenant or (target.org is not None and target.org != org):
        return "."  # another tenant's, another org's (entries belong to one org, §1)
    if target.org is None:
        if actor.is_key and actor.org is not None:
            return "."  # an org-bound key never sees unbound keys (§2a)
        return "?"  # entries of no org: tenant roles only? the SPEC has no tenant-level audit log
    return "Y"


# --- Credential exchange (§5 auth/token, §5a Taffy) --------------------------------------------
EXCHANGE_POLICIES = ("owners", "members")


def expect_exchange(person: str, policy: str, scopes: tuple[str, ...] | None) -> Outcome:
    """Email + password → a new key bound to the person's org: "owner-only unless the tenant
    allows more"; never more than the person's role (§2)."""
    p = PEOPLE[person]
    if not p.active:
        return unauth("a deactivated account does not sign in")
    org = home_org(person)
    if org is None:
        return open_("an account with no organization left: refused, the SPEC names no code")
    allowed = is_tenant_owner(person) if policy == "owners" else "keys:write" in role_perms(person, org)
    if not allowed:
        return deny("the tenant does not let this role exchange credentials")
    requested = role_perms(person, org) if scopes is None else expand(scopes)
    if not requested <= role_perms(person, org):
        return deny("a key can never be created with more than its creator has (§2)")
    return allow("the person's own new key", status=201, secret=True)


# Which targets each cell runs on. Read probes every target (every key endpoint looks its key
# up alike). The other actions run on one target of each kind the
# answer could depend on (allowed or not, whose, bound or unbound, which org), another
# tenant's and a made-up id. A caller refused before any object is looked up
# (authentication, key type, scope) runs on one real target and the made-up id, which must
# answer alike.
FULL_PROBE = frozenset({"read"})


def targets_for(actor: Actor, action: str, *, full: bool | None = None) -> list[Target]:
    everything = [*TARGETS, GHOST]
    outcomes = {t.name: expect(actor, action, t) for t in everything}
    if len({(o.kind, o.status, o.code) for o in outcomes.values()}) == 1 and outcomes[GHOST.name].kind != "allow":
        return [TARGET["member.A1"], GHOST]
    if full if full is not None else action in FULL_PROBE:
        return everything
    chosen: dict[tuple[object, ...], Target] = {}
    for t in TARGETS:
        o = outcomes[t.name]
        kind = (o.kind, o.code, t.owner == actor.person, t.org is None, t.org, t.tenant == actor.tenant)
        chosen.setdefault(kind, t)
    return [*chosen.values(), GHOST]


def open_questions() -> list[str]:
    """Every OPEN cell's question, once each (for the report)."""
    seen: dict[str, None] = {}
    for actor in ACTORS:
        for action in KEY_ACTIONS:
            for target in (*TARGETS, GHOST):
                outcome = expect(actor, action, target)
                if outcome.kind == "open":
                    seen[outcome.why] = None
        for kind in CREATES:
            outcome, _ = expect_create(actor, kind)
            if outcome.kind == "open":
                seen[outcome.why] = None
    return list(seen)


__all__ = [
    "ACTOR",
    "ACTORS",
    "BIZ",
    "CREATES",
    "GHOST",
    "KEY_ACTIONS",
    "NARROWED",
    "PEOPLE",
    "TARGET",
    "TARGETS",
    "WIDENED",
    "Actor",
    "Outcome",
    "Target",
    "audit_expectation",
    "expect",
    "expect_create",
    "expect_exchange",
    "hint_for",
    "home_org",
    "list_expectation",
    "replace",
    "targets_for",
]
