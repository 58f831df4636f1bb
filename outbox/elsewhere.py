"""The Outbox opened while the session's org is in a tenant the user does not own: which
tenants' Outbox they may read instead, as links that open it in one of that tenant's orgs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from orgs import roles
from orgs.access import ORG_PARAM, Access
from orgs.models import Organization, Tenant
from orgs.ui import session_barred
from outbox.models import OutboxMessage


def _owned_orgs(request: HttpRequest, access: Access) -> dict[int, Organization]:
    """Per tenant the user owns (but this one and those the session may not reach), its first org."""
    user: Any = request.user  # signed in (login_required)
    orgs = (
        Organization.objects.filter(tenant__memberships__user=user, tenant__memberships__role=roles.TenantRole.OWNER)
        .exclude(tenant_id__in=[access.tenant_pk, *session_barred(request)])
        .select_related("tenant")
        .order_by("tenant__name", "tenant_id", "name", "pk")
    )
    first: dict[int, Organization] = {}
    for org in orgs:
        first.setdefault(org.tenant_id, org)
    return first


def outbox_elsewhere(request: HttpRequest, access: Access, message_id: str | None = None) -> HttpResponse | None:
    """A 403 page linking to the Outbox of each tenant the user owns (for a message page: that
    message, in the tenant holding it); None when there is none to offer (the plain 403)."""
    owned = _owned_orgs(request, access)
    if message_id is not None:
        tenant_pk = (
            OutboxMessage.objects.filter(public_id=message_id, tenant_id__in=owned)
            .values_list("tenant_id", flat=True)
            .first()
        )
        owned = {tenant_pk: owned[tenant_pk]} if tenant_pk is not None else {}
    if not owned:
        return None
    path = reverse("tenant_outbox_message", args=[message_id]) if message_id else reverse("tenant_outbox")
    choices: list[dict[str, Any]] = [
        {"tenant": org.tenant.name, "url": f"{path}?{urlencode({ORG_PARAM: org.public_id})}"} for org in owned.values()
    ]
    here = Tenant.objects.filter(pk=access.tenant_pk).values_list("name", flat=True).first()
    context = {"choices": choices, "here": here, "message": message_id is not None}
    return render(request, "outbox/elsewhere.html", context, status=403)
