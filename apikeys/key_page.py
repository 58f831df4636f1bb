"""What the key pages show beyond the key's settings: an expiry badge, a rotation's grace
period (the old secret's prefix, until when it works, each secret's last use), the key's
recent client addresses and its usage limit. Reads only; the numbers come from ``apikeys.usage`` and
``apikeys.uses``. And where a key's page opens when another org is current (``in_its_org``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode

from apikeys import selectors, uses
from apikeys.models import ApiKey, KeyType, UsageRefill
from orgs import access as access_mod
from orgs import policy
from orgs import selectors as org_selectors
from orgs.ui import session_barred
from tater import scopes as S
from tater.api.errors import ApiError
from tater.exceptions import ObjectNotFound


def in_its_org(request: HttpRequest, key_id: str) -> HttpResponse:
    """A key's page asked for while another org is current (a pasted link, a bookmark, an
    audit entry): a redirect to it in the org that holds it, when this person may see it
    there; else the 404 the page always was, saying nothing of whether the key exists. A link
    that names an org (``?organizationId=``) keeps it: never silently another org."""
    org_id = (
        None
        if request.GET.get(access_mod.ORG_PARAM)
        else ApiKey.objects.filter(public_id=key_id).values_list("organization__public_id", flat=True).first()
    )
    if org_id:
        try:
            there = access_mod.for_user(
                request.user,
                hint=org_id,
                tenant_hint_value=None,
                session_org=None,
                org_required=True,
                barred=session_barred(request),
            )
            if "keys:read" in there.scopes and selectors.apikey_get(access=there, public_id=key_id):
                return HttpResponseRedirect(f"{request.path}?{urlencode({access_mod.ORG_PARAM: org_id})}")
        except (ApiError, access_mod.SessionBarred, ObjectNotFound):
            pass
    raise Http404("API key not found")


def effective_permissions(api_key: ApiKey) -> list[str]:
    """What the key may do now (SPEC §2): its scopes as far as its owner's roles allow in its
    org (an unbound key: tenant-wide, a tenant owner's) and its type allows. An owner demoted
    or gone narrows their keys with them, as the key check does (validate lists the same)."""
    owner = org_selectors.actor_for(user=api_key.owner, tenant=api_key.tenant_id)
    granted = S.expand(api_key.scopes) & owner.role_scopes(api_key.organization_id)
    if api_key.type == KeyType.PUBLIC:
        granted &= policy.PUBLIC_KEY_SCOPES
    elif api_key.type == KeyType.AGENT:
        granted &= policy.AGENT_KEY_SCOPES
    return sorted(granted)


def time_left(delta: timedelta) -> str:
    """A short, rounded-down duration for "works until ... (in 3 h)": "in 3 h", "in 25 min",
    "in 2 days", "in less than a minute"."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "in less than a minute"
    if seconds < 3600:
        return f"in {seconds // 60} min"
    if seconds < 2 * 86400:
        return f"in {seconds // 3600} h"
    return f"in {seconds // 86400} days"


def rotation_state(api_key: ApiKey, now: datetime) -> dict[str, Any] | None:
    """During a rotation's grace period: the old secret's prefix, until when it works and
    when each secret was last used (both reset at rotation: None is "not since")."""
    ends = api_key.previous_secret_ends
    if ends is None or ends <= now or api_key.revoked_at:
        return None
    return {
        "old_prefix": api_key.previous_display_prefix,
        "new_prefix": api_key.display_prefix,
        "until": ends,
        "time_left": time_left(ends - now),
        "old_last_used": api_key.previous_last_used_at,
        "new_last_used": api_key.current_last_used_at,
    }


EXPIRING_SOON_DAYS = 7


def expiry_state(api_key: ApiKey, now: datetime) -> dict[str, Any] | None:
    """A badge for a key that has expired, or that expires within EXPIRING_SOON_DAYS
    (only keys that would otherwise work: revoked keys need no warning)."""
    if api_key.expires_at is None or api_key.revoked_at is not None:
        return None
    if api_key.expires_at <= now:
        return {"level": "expired", "label": "Expired"}
    left = api_key.expires_at - now
    if left > timedelta(days=EXPIRING_SOON_DAYS):
        return None
    if left < timedelta(days=1):
        hours = max(1, int(left.total_seconds() // 3600))
        label = f"Expires in {hours} hour{'s' if hours != 1 else ''}"
    else:
        label = f"Expires in {left.days} day{'s' if left.days != 1 else ''}"
    return {"level": "soon", "label": label}


def recent_addresses(api_key: ApiKey) -> list[dict[str, Any]]:
    """The last 5 distinct client addresses, newest first, with when each was last seen."""
    rows = []
    for entry in api_key.recent_ips or []:
        ip = str(entry.get("ip") or "")
        if not ip:
            continue
        seen = entry.get("last_seen")
        rows.append({"ip": ip, "last_seen": parse_datetime(seen) if isinstance(seen, str) else None})
    return rows[:5]


def usage_limit_state(api_key: ApiKey) -> dict[str, Any] | None:
    """A usage-limited key's limit, uses left in this period and next refill."""
    current = uses.current(api_key.pk, api_key.usage_limit, api_key.usage_refill)
    if current is None:
        return None
    return {
        "limit": current.limit,
        "remaining": current.remaining,
        "used": current.limit - current.remaining,
        "refill": UsageRefill(current.refill).label if current.refill in UsageRefill.values else current.refill,
        "resets_at": current.resets_at,
        "exhausted": current.remaining == 0,
    }


def deactivation_text(actor: policy.Actor, keys: list[ApiKey]) -> str:
    """What deactivating says of getting the keys back: the person confirming reactivates
    only their own keys (an admin deactivates another person's key, never reactivates it,
    SPEC §2a), so the others' owners are named."""
    others = [key for key in keys if not policy.can_activate_key(actor, key)]
    fails = f"Calls with {'this key' if len(keys) == 1 else 'these keys'} will fail with 401 KEY_INACTIVE"
    if not others:
        return f"{fails} until you reactivate {'it' if len(keys) == 1 else 'them'}."
    if len(keys) == 1:
        return f"{fails} until its owner, {keys[0].owner.email}, reactivates it: only a key's owner can reactivate it."
    return (
        f"{fails} until each is reactivated: only a key's owner can reactivate it, so you can reactivate only your own."
    )
