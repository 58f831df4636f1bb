"""The dashboard (/): the current org's keys, recent activity and recent scans at a glance.
It reads several apps (apikeys, scans, audit, orgs), hence its place in the top layer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_otp import user_has_device

from apikeys import selectors as key_selectors
from apikeys.models import KeyStatus
from audit.selectors import AuditFilters, audit_page, scope_for
from orgs import policy
from orgs.access import Access
from orgs.forms import OrgCreateForm
from orgs.ui import current_access
from scans.selectors import scan_list

EXPIRING_SOON_DAYS = 7
RECENT_ITEMS = 8


def _recent_activity(access: Access) -> list[Any] | None:
    """The latest audit entries the user may see here, or None without audit:read."""
    if "audit:read" not in access.scopes:
        return None
    rows, _cursor = audit_page(scope=scope_for(access), filters=AuditFilters(), limit=RECENT_ITEMS)
    return rows


def _recent_scans(access: Access) -> list[Any] | None:
    if "scans:read" not in access.scopes:
        return None
    return list(scan_list(org=access.organization(), filters={})[:RECENT_ITEMS])


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    if access.org is None:
        return render(request, "orgs/no_org.html", {"access": access, "form": OrgCreateForm()})
    context: dict[str, Any] = {"access": access, "can_read_keys": "keys:read" in access.scopes}
    if context["can_read_keys"]:
        actor = key_selectors.actor_of(access, request.user)
        active = key_selectors.apikey_list(access=access, filters={"status": KeyStatus.ACTIVE}, actor=actor)
        soon = timezone.now() + timedelta(days=EXPIRING_SOON_DAYS)
        context["active_keys"] = active.count()
        context["expiring_keys"] = active.filter(expires_at__lte=soon).count()
        context["recent_keys"] = list(key_selectors.apikey_list(access=access, filters={}, actor=actor)[:5])
        # Members and viewers see only their own keys: the counts say so.
        context["own_keys_only"] = policy.key_reach(actor, org_pk=access.org.pk).owner_pk is not None
    context["can_write_keys"] = "keys:write" in access.scopes
    # A nudge towards a second factor for anyone without one (the tenant may also require it).
    context["suggest_2fa"] = not user_has_device(request.user, confirmed=True)
    context["activity"] = _recent_activity(access)
    context["scans"] = _recent_scans(access)
    context["expiring_soon_days"] = EXPIRING_SOON_DAYS
    return render(request, "orgs/dashboard.html", context)
