"""A tenant-level page (tenant settings, SCIM, the Outbox, New organization) opened while the
session's org is in a tenant where the user lacks the tenant role the page needs: a 403 page
naming that tenant and the role, with links to the same page in each tenant where the user holds
it, opened in one of its orgs with the org hint (``?organizationId=``, as the switcher's pages
carry it). Tenants the user holds no such role in, or this session may not reach, are never
named; someone with no tenant to offer gets the plain 403 (``require_tenant_role``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from orgs import roles
from orgs.access import ORG_PARAM, Access
from orgs.models import Organization, Tenant
from orgs.ui import require_tenant_role, session_barred

ROLE_WORDS: dict[str, str] = {roles.TenantRole.OWNER: "owners", roles.TenantRole.ADMIN: "admins"}


def _orgs_with_role(
    request: HttpRequest, access: Access, allowed: tuple[str, ...], within: QuerySet[Any] | Iterable[int] | None
) -> dict[int, Organization]:
    """Per tenant where the user holds an ``allowed`` tenant role (but this one, those the
    session may not reach and, given ``within``, those not in it), its first org."""
    user: Any = request.user  # signed in (login_required)
    orgs = Organization.objects.filter(tenant__memberships__user=user, tenant__memberships__role__in=allowed).exclude(
        tenant_id__in=[access.tenant_pk, *session_barred(request)]
    )
    if within is not None:
        orgs = orgs.filter(tenant_id__in=within)
    first: dict[int, Organization] = {}
    for org in orgs.select_related("tenant").order_by("tenant__name", "tenant_id", "name", "pk"):
        first.setdefault(org.tenant_id, org)
    return first


def require_tenant_page(
    request: HttpRequest,
    access: Access,
    *allowed: str,
    title: str,
    url_name: str,
    args: Iterable[object] = (),
    within: QuerySet[Any] | Iterable[int] | None = None,
) -> HttpResponse | None:
    """None when ``access`` holds one of the ``allowed`` tenant roles. Else the 403 page offering
    the page ``url_name`` (``args``) in each tenant where the user holds one (restricted to the
    tenant ids ``within``, for a page showing one object: the tenant holding it), or, with none
    to offer, the plain 403 (raised). ``title`` names the page ("Tenant settings")."""
    if access.tenant_role in allowed:
        return None
    found = _orgs_with_role(request, access, allowed, within)
    if not found:
        require_tenant_role(access, *allowed)
    url = reverse(url_name, args=list(args))
    choices = [
        {"tenant": org.tenant.name, "url": f"{url}?{urlencode({ORG_PARAM: org.public_id})}"} for org in found.values()
    ]
    context = {
        "title": title,
        "here": Tenant.objects.filter(pk=access.tenant_pk).values_list("name", flat=True).first(),
        "needed": " or ".join(ROLE_WORDS.get(role, role) for role in allowed),
        "choices": choices,
    }
    return render(request, "orgs/tenant_page_elsewhere.html", context, status=403)
