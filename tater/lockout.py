"""Failed-authentication lockout (SPEC §6).

Failures are counted by the rate limiter (``tater.limiter``: one entity per client
address and per account, whose rule admits one failure fewer than the threshold), and
locks are values kept beside those counts in the limiter's store (one Redis Cluster slot):

- ``TATER_LOCKOUT_CLIENT_FAILURES`` failures from one address within
  ``TATER_LOCKOUT_CLIENT_WINDOW`` seconds lock that address out of further attempts for
  ``TATER_LOCKOUT_CLIENT_DURATION`` seconds (defaults 20 / 10 min / 15 min);
- ``TATER_LOCKOUT_ACCOUNT_FAILURES`` failed sign-ins against one account within
  ``TATER_LOCKOUT_ACCOUNT_WINDOW`` lock its password and OTP sign-in for
  ``TATER_LOCKOUT_ACCOUNT_DURATION`` (defaults 10 / 15 min / 15 min).

A locked caller gets 429 ``LOCKED_OUT`` with ``Retry-After``. Only failures are counted
and only failures are refused on the API-key path, so a valid key is never locked out:
the lockout stops guessing, not the key holder. Accounts are counted under their
normalized email (tater.emails), so every spelling of an address shares one count and one
lock. Password/OTP sign-in checks the lock
*before* verifying (``check_account``), so a locked caller learns nothing from a guess.
IPv6 clients are counted per /64, the block one subscriber usually controls.
Each lockout is announced once (the ``locked_out`` signal, which the audit log records as
``auth.locked_out``), by whichever request started it. Sign-in lockout fails closed:
with the store unreachable, a sign-in answers 503 before its password or code is looked at
(``check_account`` cannot read the lock), so an outage is no window for uncounted guessing. A refused
API key keeps its 401 (revocation must read as revocation during an outage; a key's 128
random bits are not guessed in an outage's minutes).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.dispatch import Signal

from tater import client_ip, context, limiter
from tater.api.errors import ApiError, ServiceUnavailable
from tater.emails import normalize_email
from tater.limiter import Entity, LimiterUnavailable, Rule, keys

# Sent once per lockout, by the request that started it: ``changes`` describes it
# (scope, kind, failures, window_seconds, locked_until, address or account).
locked_out = Signal()

ACCOUNT_KINDS = frozenset({"password", "otp", "token_exchange"})
# Random bearer secrets (128 bits): with the store down their refusal stays a 401, uncounted,
# as nothing is guessed; a 503 would only hide a wrong or revoked one from its operator
# (an identity provider retries a 503 for hours, a 401 says "fix the credentials").
SECRET_KINDS = frozenset({"api_key", "scim_token"})
# The longest an account's attempt slot stays taken if its request never ends cleanly.
ATTEMPT_SECONDS = 30


@dataclass(frozen=True)
class _Scope:
    name: str  # "client" | "account"
    subject: str  # the address bucket or the account's hash
    failures: int
    window: int
    duration: int


class LockedOut(ApiError):
    status_code = 429
    code = "LOCKED_OUT"

    def __init__(self, retry_after: int, message: str = "") -> None:
        super().__init__(
            message or f"Too many failed authentication attempts, retry in {retry_after} seconds",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class SignInBusy(LockedOut):
    """Another request's credential for this account is being checked (one at a time): the
    catalog's ``LOCKED_OUT`` for API clients, with ``Retry-After: 1`` and its own message;
    pages tell it apart from a lockout by its class."""

    def __init__(self) -> None:
        super().__init__(1, "Another sign-in to this account is being checked: retry in a second")


def client_bucket(ip: str) -> str:
    """The unit an address is counted in: the IPv4 address, or the IPv6 /64. A client whose
    trusted proxy could not tell its address (``client_ip.UNKNOWN``) is counted with the other
    such clients of the nearest trusted hop, not with every unidentified client everywhere."""
    via = context.current().unknown_via
    if ip == client_ip.UNKNOWN and via:
        return f"unknown-via-{via}"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _account_subject(account: str) -> str:
    # One key per account whatever spelling reached it (NFKC + case folding, SPEC §8).
    # Hashed: a cache key must not carry arbitrary user input (length, control characters).
    return hashlib.sha256(normalize_email(account).encode()).hexdigest()[:40]


def _client_scope(ip: str) -> _Scope:
    return _Scope(
        "client",
        client_bucket(ip),
        settings.TATER_LOCKOUT_CLIENT_FAILURES,
        settings.TATER_LOCKOUT_CLIENT_WINDOW,
        settings.TATER_LOCKOUT_CLIENT_DURATION,
    )


def _account_scope(account: str) -> _Scope:
    return _Scope(
        "account",
        _account_subject(account),
        settings.TATER_LOCKOUT_ACCOUNT_FAILURES,
        settings.TATER_LOCKOUT_ACCOUNT_WINDOW,
        settings.TATER_LOCKOUT_ACCOUNT_DURATION,
    )


def _entity_key(scope: _Scope) -> str:
    return f"lockout:{scope.name}:{scope.subject}"


def _lock_name(scope: _Scope) -> str:
    """Where the scope's lock (its end, epoch seconds) is kept: beside its failure counts."""
    return keys.tagged(_entity_key(scope), "locked")


def _locked_until(scopes: list[_Scope]) -> float:
    """When the latest lock of ``scopes`` ends (0: none); raises :class:`LimiterUnavailable`."""
    locks = limiter.get_limiter().read([_lock_name(s) for s in scopes])
    return max((float(v) for v in locks.values() if v is not None), default=0.0)


def _raise_if_locked(scopes: list[_Scope], t: float) -> None:
    try:
        until = _locked_until(scopes)
    except LimiterUnavailable:
        raise ServiceUnavailable() from None  # unknown: no credential is checked meanwhile
    if until > t:
        raise LockedOut(max(1, math.ceil(until - t)))


def _announce(scope: _Scope, *, kind: str, account: str | None, until: float, failures: int) -> None:
    changes: dict[str, object] = {
        "scope": scope.name,
        "kind": kind,
        "failures": failures,
        "window_seconds": scope.window,
        "locked_until": datetime.fromtimestamp(until, tz=UTC).isoformat(),
    }
    if scope.name == "client":
        changes["address"] = scope.subject
    else:
        changes["account"] = normalize_email(account)
    locked_out.send(sender=None, changes=changes)


def client_budget_headers(ip: str) -> dict[str, str]:
    """``X-RateLimit-*`` for an answer with no caller to report (SPEC §6: every API
    response carries them): the failed authentications ``ip`` may still make and be
    answered, as GitHub reports its per-address budget to unauthenticated callers.
    ``Remaining`` 0: the next failure is refused; during a lockout ``Reset`` is its end.
    Empty when the store cannot tell (an outage answers without them)."""
    scope = _client_scope(ip)
    lock = _lock_name(scope)
    try:
        decision = limiter.get_limiter().peek(_failures(scope), reads=[lock])  # one round trip
    except LimiterUnavailable:
        return {}
    if decision.degraded:
        return {}
    headers = decision.rate_limit_headers()
    until = float(decision.reads.get(lock) or 0)
    if until > time.time():
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = str(math.ceil(until))
    return headers


def _failures(scope: _Scope) -> Entity:
    # The threshold-th failure is refused by the rule: that is the one that locks. Rolling
    # whatever the window's length: "N failures within 15 minutes" holds across any
    # 15 minutes, not per clock quarter (a fixed window would let 2 × (N - 1) straddle one).
    rule = Rule(scope.window, max(1, scope.failures - 1), rolling=True)
    return Entity(_entity_key(scope), [rule])


def register_failure(*, ip: str, kind: str, account: str | None = None, count_client: bool = True) -> None:
    """Count one failed authentication attempt from ``ip`` (and against ``account``);
    raise 429 ``LOCKED_OUT`` when the client or account is (now) locked out.

    ``kind`` is ``api_key``, ``scim_token``, ``password``, ``otp`` or ``token_exchange``; the account is
    counted for the sign-in kinds only. The attempt that reaches a threshold is refused.
    ``count_client=False``: the account alone is counted and checked, where counting the
    address would tell which addresses have accounts (accounts.adapter).
    """
    scopes = [_client_scope(ip)] if count_client or not account else []
    if account and kind in ACCOUNT_KINDS:
        scopes.append(_account_scope(account))
    try:
        _count_failure(scopes, kind=kind, account=account)
    except LimiterUnavailable:
        if kind in SECRET_KINDS:
            return  # the secret was refused (401) anyway; 128 random bits are not guessed
        raise ServiceUnavailable() from None  # sign-in lockouts fail closed: no uncounted guessing


def _count_failure(scopes: list[_Scope], *, kind: str, account: str | None) -> None:
    """:func:`register_failure` with the store answering (else :class:`LimiterUnavailable`)."""
    t = time.time()
    until = _locked_until(scopes)
    if until > t:  # already locked: refused uncounted (a lock is never extended by more guesses)
        raise LockedOut(max(1, math.ceil(until - t)))
    lim = limiter.get_limiter()
    locked_until = 0.0
    for scope in scopes:
        entity = _failures(scope)
        decision = lim.check(entity)
        if decision.degraded:
            raise LimiterUnavailable("failures cannot be counted")
        if decision.admitted and scope.failures > 1:
            continue
        until = t + scope.duration
        name = _lock_name(scope)
        # Only the request that starts the lockout announces it, once per lockout.
        started = lim.write({name: repr(until)}, ttl=scope.duration, only_if_absent=True)[name]
        if not started and _locked_until([scope]) <= t:
            # A lock that outlived its end (clock skew between workers): a new lockout.
            lim.write({name: repr(until)}, ttl=scope.duration)
            started = True
        if started:
            lim.reset(entity)  # the lockout settles these failures: afterwards, a fresh count
            _announce(scope, kind=kind, account=account, until=until, failures=scope.failures)
        locked_until = max(locked_until, until)
    if locked_until:
        until = _locked_until(scopes)
        if until > t:
            raise LockedOut(max(1, math.ceil(until - t)))


def check_account(account: str) -> None:
    """Raise 429 ``LOCKED_OUT`` when password/OTP sign-in to ``account`` is locked, or when
    the current request's client address is, or while another request's credential for the
    account is being checked. Call it before verifying the credential.

    One check at a time per account: the request takes the account's attempt slot here and
    gives it back when it ends (``context.finish``). Without it, every guess in flight when
    the threshold-th failure is counted had its password checked anyway: an attacker with
    many addresses guessed as many times per lockout window as it had requests in flight."""
    t = time.time()
    scope = _account_scope(account)
    scopes = [scope]
    ip = context.current().ip
    if ip:
        scopes.append(_client_scope(ip))
    _raise_if_locked(scopes, t)
    _take_attempt_slot(scope)


def _take_attempt_slot(scope: _Scope) -> None:
    ctx = context.current()
    name = f"lockout.attempt:{scope.subject}"
    if name in ctx.at_end:
        return  # this request holds it already (e.g. a password, then a code)
    entity = Entity(f"lockout:attempt:{scope.subject}", [Rule(ATTEMPT_SECONDS, 1, rolling=True)])
    lim = limiter.get_limiter()
    try:
        decision = lim.check(entity)
    except LimiterUnavailable:
        raise ServiceUnavailable() from None  # as for the lock itself: nothing checked meanwhile
    if decision.degraded:
        return
    if not decision.admitted:
        raise SignInBusy()
    ctx.at_end[name] = lambda: lim.refund(entity, decision.receipt)


def check_client(ip: str) -> None:
    """Raise 429 ``LOCKED_OUT`` when ``ip`` is locked out (for non-account sign-in surfaces)."""
    _raise_if_locked([_client_scope(ip)], time.time())
