"""Tenant settings → Outbox: the mail the product kept for this tenant (the embedded
default has no mail server). Tenant owners only; another tenant's message is a 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.module_loading import import_string

from orgs import roles
from orgs.elsewhere import require_tenant_page
from orgs.ui import current_access
from outbox.backends import OutboxMailBackend
from outbox.models import OutboxMessage


def _outbox_in_use() -> bool:
    try:
        backend = import_string(settings.EMAIL_BACKEND)
    except ImportError:
        return False
    return isinstance(backend, type) and issubclass(backend, OutboxMailBackend)


@login_required
def outbox_list(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    refused = require_tenant_page(request, access, roles.TenantRole.OWNER, title="Outbox", url_name="tenant_outbox")
    if refused is not None:
        return refused
    messages = OutboxMessage.objects.filter(tenant_id=access.tenant_pk)
    page = Paginator(messages, 25).get_page(request.GET.get("page"))
    return render(request, "outbox/list.html", {"page": page, "in_use": _outbox_in_use()})


@login_required
def outbox_detail(request: HttpRequest, message_id: str) -> HttpResponse:
    access = current_access(request, org_required=False)
    refused = require_tenant_page(
        request,
        access,
        roles.TenantRole.OWNER,
        title="Outbox message",
        url_name="tenant_outbox_message",
        args=[message_id],
        within=OutboxMessage.objects.filter(public_id=message_id).values("tenant_id"),  # the tenant holding it
    )
    if refused is not None:
        return refused
    message = OutboxMessage.objects.filter(tenant_id=access.tenant_pk, public_id=message_id).first()
    if message is None:
        raise Http404("Message not found")
    response = render(request, "outbox/detail.html", {"message": message})
    response["Cache-Control"] = "no-store"  # invitation links
    return response
