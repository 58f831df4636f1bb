"""API rate limits (SPEC §6): the one rate-limit decision of a request, applied.

Limits apply per API key (per user and tenant for browser sessions), per minute and per
hour by tenant plan (``TATER_PLAN_RATE_LIMITS``), plus a key's optional stricter override
(``"5/min"``, ``"1000/hour"``, ``"5/60s"``); see ``apikeys.limits.rules_for``. Rules of a
minute or less are rolling windows (``tater.limiter``).

Each request's decision is made once and carried on the request as ``request.rate_limit``
(a :class:`RequestRate`):

- a key request is decided by ``apikeys.keycheck.check`` (in the round trip that confirms
  the key is current) during authentication;
- a session request is decided by :class:`ApiRateThrottle`.

A usage-limited key's use is taken by the throttle too, after the rate limit admitted the
request (``apikeys.uses``): 429 ``USAGE_EXHAUSTED`` when none is left.

``ApiRateThrottle`` (the DRF default throttle, after authentication and permissions)
refuses with 429 ``RATE_LIMITED``. ``finish_response`` (a ``TATER_API_RESPONSE_HOOKS``
entry) writes the ``X-RateLimit-*`` headers on every response of an identified caller,
gives a key's count back when the request was refused before the throttle (a missing
scope is not the key's quota), and counts the key's usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apikeys import usage, uses
from apikeys.principal import KeyPrincipal
from apikeys.uses import Uses
from tater import limiter, lockout
from tater.api.errors import RateLimited
from tater.client_ip import client_ip
from tater.limiter import Decision, Entity, LimiterUnavailable, RateLimitedEntity, Rule


@dataclass(slots=True)
class RequestRate:
    """The rate-limit decision of one request."""

    entity: RateLimitedEntity
    decision: Decision
    counted: bool  # admitted and counted: to be given back if the request is refused before the throttle
    applied: bool = False  # the throttle has seen it
    uses: Uses | None = None  # a usage-limited key's uses after this request (apikeys.uses)


def minute_and_hour(setting: str, default: tuple[int, int]) -> tuple[Rule, ...]:
    """Rules from a ``(per minute, per hour)`` setting: the minute rolling, the hour fixed
    (a value below 1 is refused by ``Rule``; ``tater.checks`` reports it at start)."""
    per_minute, per_hour = getattr(settings, setting, default)
    return (Rule(60, int(per_minute)), Rule(3600, int(per_hour)))


def count_request(request: Request, entity: RateLimitedEntity) -> Decision:
    """Count this request against ``entity``'s limits (an outage: fail open or 503, per
    ``TATER_RATELIMIT_FAIL_OPEN``) and carry the decision on ``request.rate_limit``, where
    ``finish_response`` writes its headers. Refusing, in its own format, is the caller's part."""
    decision = limiter.check(entity)
    rate = RequestRate(entity, decision, counted=decision.admitted, applied=True)
    setattr(request._request, "rate_limit", rate)  # noqa: B010 - the request's documented attribute
    return decision


def session_entity(user_pk: int, tenant_pk: int) -> Entity:
    """A browser session's limits: its user in the tenant the request resolved to, by the
    tenant's plan (read fresh, so a plan change applies to the very next request)."""
    from orgs.models import Tenant

    plan = Tenant.objects.filter(pk=tenant_pk).values_list("plan", flat=True).first()
    return _plan_entity(user_pk, tenant_pk, plan)


def _plan_entity(user_pk: int, tenant_pk: int, plan: str | None) -> Entity:
    from apikeys.limits import rules_for

    return Entity(f"user:{user_pk}:tenant:{tenant_pk}", rules_for(plan or "free"))


def _session_entity(request: Request) -> Entity | None:
    """The session's entity in the tenant its request resolved to (None: no session, or a
    view that resolves no org, such as sign-out: not counted)."""
    access = getattr(request, "access", None)
    user = request.__dict__.get("_user")
    if access is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    return session_entity(user.pk, access.tenant_pk)


# A person's tenants looked at for the headers of an answer that resolved none.
HEADER_TENANTS = 20


def _unresolved_session_rate(request: Request) -> RequestRate | None:
    """For the headers only, consuming nothing: a signed-in caller's quota where the request
    resolved no tenant (400 ``AMBIGUOUS_ORG``, sign-out, ``/me``): still a response to an
    identified caller, whose headers say where it stands. In several tenants, the quota
    nearest to running out (what the next request may meet first)."""
    user = request.__dict__.get("_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    access = getattr(request, "access", None)
    if access is not None:
        entities = [session_entity(user.pk, access.tenant_pk)]
    else:
        from orgs.selectors import orgs_reachable_by_user

        # The plans come with the tenants: one query however many tenants are the person's.
        reachable = orgs_reachable_by_user(user=user).order_by("tenant_id").values_list("tenant_id", "tenant__plan")
        tenants = reachable.distinct()[:HEADER_TENANTS]
        entities = [_plan_entity(user.pk, tenant_pk, plan) for tenant_pk, plan in tenants]
    rates = [RequestRate(entity, limiter.peek(entity), counted=False) for entity in entities]
    return min(rates, key=lambda rate: rate.decision.remaining, default=None)


def admitted_during_outage(request: Request, view: Any) -> bool:
    """Whether the view admits this method uncounted while the store is down (revoking)."""
    return request._request.method in getattr(view, "admitted_during_outage", ())


class ApiRateThrottle(BaseThrottle):
    """Applies the request's decision; decides for sessions (keys were decided by the key check)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        rate: RequestRate | None = getattr(request._request, "rate_limit", None)
        if rate is None:
            entity = _session_entity(request)
            if entity is None:
                return True  # open endpoints and anonymous callers: the lockout guards sign-in
            with limiter.admitting_on_outage(admitted_during_outage(request, view)):
                decision = limiter.check(entity)
            rate = RequestRate(entity, decision, counted=decision.admitted)
            setattr(request._request, "rate_limit", rate)  # noqa: B010 - the request's documented attribute
        rate.applied = True
        if not rate.decision.admitted:
            raise RateLimited(rate.decision)
        principal = request.auth
        if isinstance(principal, KeyPrincipal) and principal.usage_limit is not None and _serves(view, request):
            try:
                rate.uses = uses.consume(principal.pk, principal.usage_limit, principal.usage_refill)
            except uses.UsageExhausted:
                if rate.counted:  # a refused request takes nothing from the rate limit either
                    limiter.refund(rate.entity, rate.decision.receipt)
                    rate.decision = limiter.peek(rate.entity)
                    rate.counted = False
                raise
        return True


def _serves(view: Any, request: Request) -> bool:
    """Whether the view serves the request's method: one it does not (a 405) is not a request
    served, so it takes no use of a usage-limited key (README, which answers take a use)."""
    method = (request.method or "").lower()
    return method in view.http_method_names and hasattr(view, method)


def _signed_in(request: Request) -> bool:
    user = request.__dict__.get("_user")
    return user is not None and bool(getattr(user, "is_authenticated", False))


def finish_response(request: Request, response: Any) -> None:
    """Rate-limit headers on every response (an identified caller's quota; with no caller,
    the address's failed-authentication budget: ``tater.lockout.client_budget_headers``);
    key usage counted."""
    rate: RequestRate | None = getattr(request._request, "rate_limit", None)
    try:
        if rate is not None and rate.counted and not rate.applied:
            # Counted by the key check, then refused before the throttle (e.g. missing scope).
            limiter.refund(rate.entity, rate.decision.receipt)
            rate.decision = limiter.peek(rate.entity)
            rate.counted = False
        if rate is None:
            rate = _unresolved_session_rate(request)
    except LimiterUnavailable:
        rate = None  # the store is down (limits failing closed): an answer without the headers
    if rate is not None:
        headers = rate.decision.rate_limit_headers()
    elif request.__dict__.get("_auth") is None and not _signed_in(request):
        headers = lockout.client_budget_headers(client_ip(request._request))  # no caller: its address
    else:
        headers = {}
    for name, value in headers.items():
        response.headers[name] = value
    principal = request.__dict__.get("_auth")
    if isinstance(principal, KeyPrincipal):
        if response.status_code >= 400:
            usage.record(principal.pk, requests=0, errors=1)
        usage.maybe_flush()
