"""Tenant and organization settings pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from orgs import roles, services
from orgs.access import Access
from orgs.elsewhere import require_tenant_page
from orgs.forms import (
    OrgRenameForm,
    TenantSettingsForm,
    add_domain_error,
)
from orgs.models import Organization, Tenant
from orgs.ui import current_access, require_scope, url_in_org
from tater.exceptions import Conflict, DomainError
from tater.shown_values import refuse_changed_meanwhile


@login_required
@require_http_methods(["GET", "POST"])
def tenant_settings(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    refused = require_tenant_page(
        request, access, roles.TenantRole.OWNER, title="Tenant settings", url_name="tenant_settings"
    )
    if refused is not None:
        return refused
    tenant = Tenant.objects.get(pk=access.tenant_pk)
    initial = {field: getattr(tenant, field) for field in TenantSettingsForm.base_fields}
    form = TenantSettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid() and not refuse_changed_meanwhile(form, initial):
        try:
            services.tenant_update(tenant=tenant, actor=request.user, **form.changes())
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Tenant settings saved.")
            return redirect(url_in_org(request, access, "tenant_settings"))
    return render(
        request, "orgs/tenant_settings.html", {"form": form, "tenant": tenant}, status=400 if form.errors else 200
    )


def _may_rename(access: Access) -> bool:
    """Whether to offer the rename form: tenant owners/admins and org admins (the rule
    orgs.services.org_rename enforces; this only decides what is rendered)."""
    return roles.effective_rank(access.tenant_role, access.org_role) >= roles.ORG_ROLE_RANK[roles.OrgRole.ADMIN]


@login_required
@require_http_methods(["GET", "POST"])
def org_settings(request: HttpRequest) -> HttpResponse:
    """The current org's name, id, tenant and creation date; a rename form for those who
    may rename it, read-only for members and viewers (their POST is a 403)."""
    access = current_access(request)
    require_scope(access, "organizations:read")
    organization = Organization.objects.select_related("tenant").get(pk=access.org.pk)  # type: ignore[union-attr]
    can_rename = _may_rename(access) and "organizations:write" in access.scopes
    form = None
    if can_rename:
        form = OrgRenameForm(request.POST if request.method == "POST" else None, initial={"name": organization.name})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only tenant owners/admins and organization admins can rename an organization")
        if form.is_valid() and not refuse_changed_meanwhile(form, {"name": organization.name}):
            if not form.has_changed():
                # Nothing is written: a name someone else gave it meanwhile stays.
                messages.info(request, "Nothing changed.")
                return redirect(url_in_org(request, access, "org_settings"))
            try:
                # ``shown``: a rename landing after this request read the org is refused too.
                services.org_rename(
                    organization=organization,
                    name=form.cleaned_data["name"],
                    actor=request.user,
                    enforce_permissions=True,
                    shown=form.shown_name(),
                )
            except Conflict:
                organization.refresh_from_db()
                refuse_changed_meanwhile(form, {"name": organization.name})
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, f"Organization renamed to “{organization.name}”.")
                return redirect(url_in_org(request, access, "org_settings"))
    return render(
        request,
        "orgs/org_settings.html",
        {"organization": organization, "form": form, "access": access},
        status=400 if form is not None and form.errors else 200,
    )
