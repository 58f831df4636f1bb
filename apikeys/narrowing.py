"""What a key made or rotated through an API key may be (SPEC §2a, keys only narrow): no
looser than the calling key in expiry, IP allowlist, rate limit or usage limit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from apikeys.limits import parse_rate_limit
from apikeys.models import ApiKey
from orgs import policy
from tater.exceptions import NotPermitted


def rate_or_none(value: str) -> tuple[int, int] | None:
    return parse_rate_limit(value) if value.strip() else None


def looser_than(caller: ApiKey, expires_at: datetime | None, ips: Iterable[str], rate: str) -> list[str]:
    """The restrictions of ``caller`` that a key with these settings would not hold."""
    widened = []
    if policy.expiry_widens(caller.expires_at, expires_at):
        widened.append("expires_at")
    if policy.allowlist_widens(caller.allowed_ips, ips):
        widened.append("allowed_ips")
    if policy.rate_widens(rate_or_none(caller.rate_limit), rate_or_none(rate)):
        widened.append("rate_limit")
    if caller.usage_limit is not None:
        # Another key counts its own uses from zero: whatever its limit, they come on top
        # of the caller's, and a usage-limited key would never run out (a new key each time).
        widened.append("usage_limit")
    return widened


def no_looser_than(
    caller: ApiKey, expires_at: datetime | None, ips: list[str], rate: str
) -> tuple[datetime | None, list[str], str]:
    """A key made through an API key is no looser than that key (SPEC §2a, keys only
    narrow; else an expiring, address-bound or rate-limited key mints an unrestricted one):
    what the call leaves out it inherits, what it asks beyond is refused."""
    if caller.expires_at is not None:
        expires_at = expires_at or caller.expires_at
    if caller.allowed_ips:
        ips = ips or list(caller.allowed_ips)
    if caller.rate_limit:
        rate = rate or caller.rate_limit
    widened = looser_than(caller, expires_at, ips, rate)
    if widened:
        raise NotPermitted(
            f"A key made through an API key is no looser than that key ({', '.join(widened)} would be): "
            "sign in to create it",
            details={"widened": widened},
        )
    return expires_at, ips, rate


def require_rotatable_through(who: policy.Actor, api_key: ApiKey) -> None:
    """Rotation hands out the key's new secret: through an API key, only a key no looser than
    the calling one (SPEC §2a, keys only narrow; else an address-bound or expiring key
    rotates an unrestricted sibling and holds a credential usable from anywhere, forever)."""
    if who.credential is None or who.credential.key_pk == api_key.pk:
        return
    caller = ApiKey.objects.get(pk=who.credential.key_pk)
    widened = looser_than(caller, api_key.expires_at, api_key.allowed_ips, api_key.rate_limit)
    if widened:
        raise NotPermitted(
            f"This key is looser than the API key calling ({', '.join(widened)}): "
            "rotate it from a signed-in session, or with a key at least as restricted",
            details={"widened": widened},
        )


def key_locked_usable(key_pk: int, *, nothing_done: str) -> ApiKey:
    """The API key a change goes through, locked until the transaction ends as its revocation
    locks it: a revocation or deactivation arriving meanwhile (a leak) waits for the change and
    then sees what it made. One that came first, since the request's key check, refuses the
    change (``NotPermitted``; ``nothing_done`` says what did not happen)."""
    key = ApiKey.objects.select_for_update(of=("self",), no_key=True).filter(pk=key_pk).first()
    if key is None or key.revoked_at is not None:
        raise NotPermitted(f"This API key was revoked meanwhile: {nothing_done}")
    if not key.is_active:
        raise NotPermitted(f"This API key was deactivated meanwhile: {nothing_done}")
    return key


def caller_locked(actor: policy.Actor) -> ApiKey | None:
    """The API key a key is created through (None from a session, the admin, a command),
    locked after the creator's roles (``as_actor_locked``, the sweeps' order): the leak mail of
    a revocation arriving meanwhile names the new key among the keys made with it."""
    if actor.credential is None:
        return None
    return key_locked_usable(actor.credential.key_pk, nothing_done="nothing was created")


def rotation_locked(who: policy.Actor, api_key: ApiKey) -> ApiKey:
    """The key to rotate, locked; through another API key, under that key too (SPEC §14: the
    leak mail names the keys rotated with a leaked key): the two in key order, as a sweep of
    their owner's keys takes them (``reactions.keys_lock``), the calling one refused if revoked
    or deactivated since the request's key check, so a revocation arriving meanwhile waits and
    its mail names the rotated key."""
    through = who.credential.key_pk if who.credential is not None and who.credential.key_pk != api_key.pk else None
    keys = ApiKey.objects.select_for_update(of=("self",)).select_related("tenant", "organization")
    locked = {key.pk: key for key in keys.filter(pk__in=[api_key.pk, through or api_key.pk]).order_by("pk")}
    if through is not None:
        key_locked_usable(through, nothing_done="nothing was rotated")
    return locked[api_key.pk]
