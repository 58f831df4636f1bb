"""The API-key check: from a presented secret to a verified principal and a rate-limit
decision, in one call. Everything about "is this key admitted now" lives here.

    checked = keycheck.check(raw_key, client_ip)   # raises ApiError: 401, 403, 429, 503
    checked.principal, checked.decision            # KeyPrincipal, tater.limiter.Decision

**The principal cache**: verified principals are memoized per process under the presented
secret's digest, tagged with the digest's *generation*, which every change to a row they
were loaded from replaces (receivers on exactly the models ``principal.load`` reads); an
entry is used only under the current generation, read with the request's count (in-process:
this process or a host-wide counter beside an SQLite file; Redis or a shared cache: beside
the key's counters, where the verified principal is shared too). **A store never keeps a
revoked key alive**: changes are kept in the database for ten minutes and swept back into a
store that misses them (down, restarted from a snapshot, failed over); while it is down keys
are read from the database. docs/performance.md walks through all of it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save, pre_save
from django.utils import timezone

from apikeys import keygen, usage
from apikeys.limits import KeyEntity, blob_name, entity_key, gen_name, key_entity
from apikeys.models import ApiKey, PendingInvalidation
from apikeys.principal import KeyPrincipal, load, read_models
from tater import limiter
from tater.api.errors import ApiError, Forbidden, Unauthorized
from tater.hostcounter import SharedGeneration
from tater.limiter import Decision, InProcessBackend, LimiterUnavailable, retry
from tater.timestamps import iso_utc

logger = logging.getLogger("apikeys.keycheck")

MEMO_TTL = 300.0  # bounds how long a lost invalidation could matter
MEMO_MAX = 50_000
GEN_TTL = 24 * 3600  # an expired generation is recreated with a fresh value: safe
BLOB_TTL = 300
MISSING_TTL = 30  # unknown digests are remembered briefly: guessing costs no query each
MISSING = "missing"
MAX_RELOADS = 3


class Checked(NamedTuple):
    principal: KeyPrincipal
    decision: Decision
    counted: bool  # the request was counted against the key's limits (refund if refused later)
    entity: KeyEntity  # what it was counted as
    use_seen: bool | None = None  # this minute's last-use mark, read in the round trip (usage.touch)


def invalid() -> Unauthorized:
    return Unauthorized("Invalid token")


def refusal(principal: KeyPrincipal, ip: str) -> ApiError | None:
    """Why this (current) principal may not authenticate from ``ip``, or None."""
    if principal.revoked_at is not None:
        return Unauthorized("API key has been revoked", code="KEY_REVOKED")
    now = None
    if principal.matched_previous:
        now = timezone.now()
        if principal.previous_expires_at is None or principal.previous_expires_at <= now:
            # A rotated-out secret past its grace period is as dead as a revoked key.
            return Unauthorized("API key has been revoked", code="KEY_REVOKED")
    if principal.expires_at is not None and principal.expires_at <= (now or timezone.now()):
        return Unauthorized(
            "API key has expired", code="KEY_EXPIRED", details={"expired_at": iso_utc(principal.expires_at)}
        )
    if not principal.is_active:
        return Unauthorized("API key is deactivated", code="KEY_INACTIVE")
    if not principal.role_scopes:
        # The owner was removed, deactivated, or lost the role an unbound key needs.
        return invalid()
    if principal.allowed_ips and not principal.ip_allowed(ip):
        return Forbidden("Client address is not in this API key's allowlist", code="IP_NOT_ALLOWED")
    return None


# --- The check -------------------------------------------------------------------------


def check(raw: str, ip: str) -> Checked:
    """Verify ``raw`` from ``ip`` and count the request against the key's limits."""
    if not keygen.is_well_formed(raw):
        raise invalid()
    digest = keygen.digest_of(raw)
    lim = limiter.get_limiter()
    if isinstance(lim.backend, InProcessBackend):
        return _count(lim, _local_principal(digest), ip)
    _sweep_pending(lim)
    try:
        return _shared_check(lim, digest, ip)
    except LimiterUnavailable:
        # Generations cannot be checked: the database says who this is, and the limits
        # fail open (uncounted) or closed (503) per TATER_RATELIMIT_FAIL_OPEN.
        _outage_seen()
        return _count(lim, load(digest), ip)


def verify(raw: str, ip: str) -> KeyPrincipal:
    """The current principal of ``raw`` if it may authenticate from ``ip``; nothing counted
    (for callers that exchange a key for something else, e.g. SCIM or surfaces)."""
    if not keygen.is_well_formed(raw):
        raise invalid()
    digest = keygen.digest_of(raw)
    lim = limiter.get_limiter()
    if isinstance(lim.backend, InProcessBackend):
        principal = _local_principal(digest)
    else:
        try:
            principal, _ = _load_shared(lim, digest)
        except LimiterUnavailable:
            _outage_seen()
            principal = load(digest)
    return _refuse_if_needed(principal, ip)


def _refuse_if_needed(principal: KeyPrincipal | None, ip: str) -> KeyPrincipal:
    if principal is None:
        raise invalid()
    error = refusal(principal, ip)
    if error is not None:
        raise error
    return principal


def _count(lim: limiter.Limiter, principal: KeyPrincipal | None, ip: str) -> Checked:
    principal = _refuse_if_needed(principal, ip)
    entity = key_entity(principal)
    decision = lim.check(entity)
    return Checked(principal, decision, decision.admitted and not decision.degraded, entity)


def _shared_check(lim: limiter.Limiter, digest: str, ip: str) -> Checked:
    """Redis or a shared cache: the memo's principal, confirmed current by the generation
    read in the round trip that counts the request; reloaded when it changed."""
    entry = _memo_get(digest)
    if entry is None:
        cold = _cold_check(lim, digest, ip)
        if isinstance(cold, Checked):
            return cold
        principal, tag = cold
        fresh = True
    else:
        principal, tag = entry
        fresh = False
    for _ in range(MAX_RELOADS):
        if principal is None:
            raise invalid()
        error = refusal(principal, ip)
        if error is not None:
            if fresh or _read_generation(lim, digest) == tag:
                raise error
        else:
            entity, reads, gate = _warm_call(principal, digest, ip)
            decision = lim.check(entity, reads=reads)
            if decision.degraded:
                _outage_seen()
                return _count(lim, load(digest), ip)  # uncounted: the store is down
            own = principal.digest == digest  # else a rotated-out secret: its gen lives elsewhere
            gen = _text(decision.reads[reads[0]]) if own else _read_generation(lim, digest)
            if fresh or gen == tag:
                return Checked(principal, decision, decision.admitted, entity, _seen(decision, gate))
            if decision.admitted:
                lim.refund(entity, decision.receipt)  # counted under a principal that changed
        principal, tag = _load_shared(lim, digest)
        fresh = True
    return _count(lim, principal, ip)  # kept changing under us: the last load decides


def _cold_check(lim: limiter.Limiter, digest: str, ip: str) -> Checked | tuple[KeyPrincipal | None, str]:
    """A key this process has not seen, in one round trip when another process has: count
    the request under the rules the key was last admitted with, and read its generation and
    the principal that process shared. Returns the outcome, or the principal (as of its
    generation) for the caller to count when the store knew no rules for it."""
    remembered, reads = _cold_call(digest, ip)
    gname, bname, gate = reads
    decision = lim.check(remembered, reads=reads)
    if decision.degraded:
        raise LimiterUnavailable("the key store is unreachable")  # check() reads the database
    counted = decision.known and decision.admitted
    gen = _text(decision.reads[gname]) or _read_generation(lim, digest)
    principal = _principal_as_of(lim, digest, gen, decision.reads[bname])
    error = invalid() if principal is None else refusal(principal, ip)
    if error is not None:
        if counted:
            lim.refund(remembered, decision.receipt)
        raise error
    assert principal is not None
    entity = key_entity(principal)
    if decision.known and (entity.key(), entity.rules()) == (remembered.key(), tuple(s.rule for s in decision.states)):
        return Checked(principal, decision, counted, entity, _seen(decision, gate))
    if counted:  # counted under another secret's entity or rules that changed since
        lim.refund(remembered, decision.receipt)
    return principal, gen


def _warm_call(principal: KeyPrincipal, digest: str, ip: str) -> tuple[KeyEntity, list[str], str | None]:
    """The round trip counting a memoized principal's request: it reads the generation and,
    when a last-use write may be due, this minute's mark (``usage.touch``)."""
    own = principal.digest == digest  # else a rotated-out secret: its gen lives elsewhere
    reads = [gen_name(digest)] if own else []
    gate = usage.gate_name(digest, ip, previous=False) if own and usage.due(principal, ip) else None
    return key_entity(principal), reads + [gate] if gate else reads, gate


def _cold_call(digest: str, ip: str) -> tuple[limiter.Entity, list[str]]:
    """The round trip of a key this process has not seen: counted under the rules the store
    remembers, reading generation, shared principal and this minute's mark (for ``digest``
    as the key's current secret)."""
    gate = usage.gate_name(digest, ip, previous=False)
    return limiter.Entity(entity_key(digest), ()), [gen_name(digest), blob_name(digest), gate]


# --- Sending the round trip ahead (Redis) ---------------------------------------------


@contextmanager
def round_trip_ahead(raw: str, ip: str) -> Iterator[None]:
    """Within the block, the round trip ``check(raw, ip)`` makes first is already on its way
    (Redis; ``apikeys.middleware`` wraps each key request in it): ``check`` takes its answer
    if it sends the very same call; else, or when no check comes, it is given back on exit."""
    lim = limiter.get_limiter()
    # In-process: nothing to overlap. After an outage: check() sweeps pending invalidations first.
    if lim.sends_ahead and not _sweep_due[0] and keygen.is_well_formed(raw):
        digest = keygen.digest_of(raw)
        entry = _memo_get(digest)
        if entry is None:
            entity, reads = _cold_call(digest, ip)
            lim.send_ahead(entity, reads=reads)
        elif entry[0] is not None and refusal(entry[0], ip) is None:
            warm, warm_reads, _ = _warm_call(entry[0], digest, ip)
            lim.send_ahead(warm, reads=warm_reads)
    try:
        yield
    finally:
        lim.settle_ahead()


def _seen(decision: Decision, gate: str | None) -> bool | None:
    return None if gate is None else decision.reads.get(gate) is not None


# --- Generations and the shared principal ----------------------------------------------


def new_generation() -> str:
    return f"{random.getrandbits(62):x}"  # noqa: S311 - uniqueness, not secrecy


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else None if value is None else str(value)


def _read_generation(lim: limiter.Limiter, digest: str) -> str:
    name = gen_name(digest)
    gen = _text(lim.read([name])[name])
    if gen is None:
        lim.write({name: new_generation()}, ttl=GEN_TTL, only_if_absent=True)
        gen = _text(lim.read([name])[name]) or ""
    return gen


def _load_shared(lim: limiter.Limiter, digest: str) -> tuple[KeyPrincipal | None, str]:
    """The principal as of the digest's current generation (one MGET, maybe the database)."""
    gname, bname = gen_name(digest), blob_name(digest)
    values = lim.read([gname, bname])
    gen = _text(values[gname]) or _read_generation(lim, digest)
    return _principal_as_of(lim, digest, gen, values[bname]), gen


def _principal_as_of(lim: limiter.Limiter, digest: str, gen: str, shared: Any) -> KeyPrincipal | None:
    """The shared copy when another process verified it under ``gen``, else the database
    (then shared). Memoized under ``gen``."""
    stored_gen, _, body = (_text(shared) or "").partition("|")
    if body and stored_gen == gen:
        principal = None if body == MISSING else KeyPrincipal.from_json(body)
    else:
        principal = load(digest)  # loaded after reading ``gen``: current as of ``gen``
        value = f"{gen}|{principal.to_json() if principal is not None else MISSING}"
        lim.write({blob_name(digest): value}, ttl=BLOB_TTL if principal is not None else MISSING_TTL)
    if principal is not None:  # guessed digests stay out of the memo
        _memo_put(digest, principal, gen)
    return principal


# --- The process memo ------------------------------------------------------------------

# digest → (principal or None, generation tag, monotonic expiry)
_memo: dict[str, tuple[KeyPrincipal | None, Any, float]] = {}
_local_gen: dict[str, int] = {}  # in-process without a shared file: per digest


def _memo_get(digest: str) -> tuple[KeyPrincipal | None, Any] | None:
    entry = _memo.get(digest)
    return None if entry is None or entry[2] <= time.monotonic() else (entry[0], entry[1])


def _memo_put(digest: str, principal: KeyPrincipal | None, tag: Any) -> None:
    if len(_memo) >= MEMO_MAX:
        _memo.clear()  # a crude bound: everything reloads once
    _memo[digest] = (principal, tag, time.monotonic() + (MEMO_TTL if principal is not None else MISSING_TTL))


def reset() -> None:
    """Forget this process's verified principals and retries (tests; a settings change)."""
    _memo.clear()
    _local_gen.clear()
    _shared[0] = False
    retry.forget()  # invalidations still missed wait in the database for the sweep


def _outage_seen() -> None:
    """The store did not answer: the memo cannot be checked; the store needs what it missed."""
    _memo.clear()
    _sweep_due[0] = True


def _local_principal(digest: str) -> KeyPrincipal | None:
    shared = _shared_generation()
    gen = shared.read() if shared is not None else _local_gen.get(digest, 0)
    entry = _memo.get(digest)
    if entry is not None and entry[1] == gen and entry[2] > time.monotonic():
        return entry[0]
    principal = load(digest)
    _memo_put(digest, principal, gen)  # tagged with the generation read *before* loading
    return principal


_shared: list[Any] = [False]  # False: not looked up yet; None: no shared file


def use_shared_generation(path: str) -> SharedGeneration:
    """Share generations through the file at ``path`` (instead of the one beside the SQLite
    database) until :func:`reset`."""
    shared = SharedGeneration(path)
    _shared[0] = shared
    _memo.clear()
    return shared


def _shared_generation() -> SharedGeneration | None:
    current = _shared[0]
    if current is False:
        current = _shared[0] = SharedGeneration.beside_sqlite_file(settings.DATABASES["default"], ".keygen")
    return current


# --- Invalidation ----------------------------------------------------------------------


def forget(digests: Iterable[str | None]) -> None:
    """Every process re-reads these digests' principals on their next request: now, and
    again after commit (a reader may load the old row just before the commit)."""
    names = sorted({d for d in digests if d})
    if not names:
        return
    _invalidate(names)
    transaction.on_commit(lambda: _invalidate(names), robust=True)


def _invalidate(digests: list[str]) -> None:
    for d in digests:
        _memo.pop(d, None)
    lim = limiter.get_limiter()
    if isinstance(lim.backend, InProcessBackend):
        shared = _shared_generation()
        if shared is not None:
            shared.bump()
            return
        if len(_local_gen) > MEMO_MAX:
            reset()  # dropping generations is only safe together with the memo
        for d in digests:
            _local_gen[d] = _local_gen.get(d, 0) + 1
        return
    generations = {d: new_generation() for d in digests}
    try:
        _bump_shared(lim, generations)  # first: nothing in the database may keep it from the store
    except LimiterUnavailable as exc:
        # The change commits anyway; the store learns of it once it answers (retried, then swept).
        logger.warning("key store unavailable (%s): %d invalidations kept in the database", exc, len(digests))
        retry.later(lambda: _bump_shared(limiter.get_limiter(), generations))
        _sweep_due[0] = True
    PendingInvalidation.record(generations)  # the sweeps see that the store keeps them


def _bump_shared(lim: limiter.Limiter, generations: dict[str, str]) -> None:
    lim.write({gen_name(d): gen for d, gen in generations.items()}, ttl=GEN_TTL)
    lim.delete([blob_name(d) for d in generations])


_last_sweep = [float("-inf")]
_sweep_due = [True]  # this process saw an outage or left invalidations pending (and at start)


def _sweep_pending(lim: limiter.Limiter) -> None:
    """Give the store the recent key changes it lacks (missed, or lost to a restart or a
    failover), under fresh generations no memo or shared principal holds: at once after an
    outage, else at most every ``TATER_KEYCHECK_SWEEP_SECONDS`` (0: never)."""
    t = time.monotonic()
    interval = float(getattr(settings, "TATER_KEYCHECK_SWEEP_SECONDS", 30))
    if not _sweep_due[0] and (not interval or t < _last_sweep[0] + interval):
        return
    _last_sweep[0] = t
    try:
        kept = dict(PendingInvalidation.recent(1000))
        held = lim.read([gen_name(d) for d in kept]) if kept else {}  # one MGET (per slot on a cluster)
        # Rows are never written here: a sweep must not wait on a change's open transaction.
        lost = {d: new_generation() for d, gen in kept.items() if _text(held[gen_name(d)]) != gen}
        if lost:
            _bump_shared(lim, lost)
            lim.settle_ahead()  # a call sent ahead read the generations from before this sweep
    except LimiterUnavailable:
        return  # still down: the requests read the database meanwhile
    PendingInvalidation.forget_old()
    _sweep_due[0] = False


# --- Receivers: exactly the models ``principal.load`` reads ------------------------------


def _key_digests(**filters: Any) -> list[str]:
    rows = ApiKey.objects.filter(**filters).values_list("digest", "previous_digest")
    return [d for pair in rows for d in pair if d]


def _key_saving(sender: type, instance: Any, **kwargs: Any) -> None:
    # The digests the row had before this save (a second rotation drops one from the row).
    if instance.pk is not None:
        instance._keycheck_before = _key_digests(pk=instance.pk)


def _key_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    forget([instance.digest, instance.previous_digest, *instance.__dict__.pop("_keycheck_before", ())])


def _tenant_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    forget(_key_digests(tenant_id=instance.pk))


def _org_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    forget(_key_digests(tenant_id=instance.tenant_id))  # unbound keys list every org


def _user_changed(sender: type, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # signing in changes nothing a key's principal holds
    forget(_key_digests(owner_id=instance.pk))


def _tenant_membership_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    forget(_key_digests(owner_id=instance.user_id, tenant_id=instance.tenant_id))


def _org_membership_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    forget(_key_digests(owner_id=instance.user_id, organization_id=instance.organization_id))


def connect_receivers() -> None:
    """Called once from ``ApiKeysConfig.ready``."""
    key, tenant, org, user, tenant_membership, org_membership = read_models()
    handlers: dict[type[Model], Callable[..., None]] = {
        key: _key_changed,
        tenant: _tenant_changed,
        org: _org_changed,
        user: _user_changed,
        tenant_membership: _tenant_membership_changed,
        org_membership: _org_membership_changed,
    }
    for model, handler in handlers.items():
        uid = f"apikeys.keycheck.{model._meta.label}"
        post_save.connect(handler, sender=model, weak=False, dispatch_uid=uid + ".save")
        post_delete.connect(handler, sender=model, weak=False, dispatch_uid=uid + ".delete")
    pre_save.connect(_key_saving, sender=key, weak=False, dispatch_uid="apikeys.keycheck.key_saving")


def watched_models() -> set[type]:
    """The models whose changes reach a receiver here (the test compares it with the query)."""
    return {model for model in read_models() if post_save.has_listeners(model) and post_delete.has_listeners(model)}


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CACHES", "DATABASES", "REDIS_URL", "REDIS_CLUSTER", "TATER_RATELIMIT_BACKEND"):
        reset()


setting_changed.connect(_on_setting_changed, dispatch_uid="apikeys.keycheck.reset")
