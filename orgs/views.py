"""Org pages: dashboard, org switcher, new organization, members, organization and tenant settings.
Views resolve the org (orgs.ui), call one selector or service and render; service
errors are shown on the form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apikeys import selectors as key_selectors
from apikeys.models import KeyStatus
from orgs import roles, selectors, services
from orgs.forms import (
    NO_TENANT_ROLE,
    ROLE_HELP,
    MemberInviteForm,
    MemberRoleForm,
    MemberTenantRoleForm,
    OrgCreateForm,
    OrgRenameForm,
    OrgSwitchForm,
    TenantSettingsForm,
    add_domain_error,
)
from orgs.models import Organization, Tenant
from orgs.ui import current_access, require_scope, require_tenant_role
from tater.api.access import SESSION_ORG_KEY, Access
from tater.exceptions import DomainError

EXPIRING_SOON_DAYS = 7
RECENT_ITEMS = 8


def _recent_activity(access: Access) -> list[Any] | None:
    """The latest audit entries the user may see here, or None without audit:read."""
    if "audit:read" not in access.scopes:
        return None
    from audit.selectors import AuditFilters, audit_page, scope_for

    rows, _cursor = audit_page(scope=scope_for(access), filters=AuditFilters(), limit=RECENT_ITEMS)
    return rows


def _recent_scans(access: Access) -> list[Any] | None:
    if "scans:read" not in access.scopes:
        return None
    from scans.selectors import scan_list

    return list(scan_list(org=access.organization(), filters={})[:RECENT_ITEMS])


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    if access.org is None:
        return render(request, "orgs/no_org.html", {"access": access, "form": OrgCreateForm()})
    context: dict[str, Any] = {"access": access, "can_read_keys": "keys:read" in access.scopes}
    if context["can_read_keys"]:
        active = key_selectors.apikey_list(access=access, filters={"status": KeyStatus.ACTIVE})
        soon = timezone.now() + timedelta(days=EXPIRING_SOON_DAYS)
        context["active_keys"] = active.count()
        context["expiring_keys"] = active.filter(expires_at__lte=soon).count()
        context["recent_keys"] = list(key_selectors.apikey_list(access=access, filters={})[:5])
    context["activity"] = _recent_activity(access)
    context["scans"] = _recent_scans(access)
    context["expiring_soon_days"] = EXPIRING_SOON_DAYS
    return render(request, "orgs/dashboard.html", context)


@login_required
@require_POST
def org_switch(request: HttpRequest) -> HttpResponse:
    """Make an org the session's current org; an org the user cannot reach is a 404."""
    form = OrgSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("Organization not found")
    org = selectors.orgs_reachable_by_user(user=request.user).filter(public_id=form.cleaned_data["org"]).first()
    if org is None:
        raise Http404("Organization not found")
    request.session[SESSION_ORG_KEY] = org.public_id
    messages.info(request, f"Switched to {org.name}.")
    return redirect(_after_switch(request, form.cleaned_data["next"]))


def _after_switch(request: HttpRequest, target: str) -> str:
    """Stay on the same page after switching, unless it shows one object of the old org
    (a key page), in which case go to the dashboard."""
    if not target or not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return "/"
    path = target.split("?", 1)[0]
    try:
        match = resolve(path)
    except Resolver404:
        return "/"
    # Object pages and org-specific query strings belong to the previous org.
    return "/" if match.kwargs or "?" in target else path


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    require_tenant_role(access, roles.TenantRole.OWNER, roles.TenantRole.ADMIN)
    form = OrgCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.org_create(
                tenant=Tenant.objects.get(pk=access.tenant_pk),
                name=form.cleaned_data["name"],
                actor=request.user,
                enforce_permissions=True,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            request.session[SESSION_ORG_KEY] = org.public_id
            messages.success(request, f"Organization “{org.name}” created. It is now your current organization.")
            return redirect("dashboard")
    return render(request, "orgs/org_create.html", {"form": form}, status=400 if form.errors else 200)


def _member_or_404(access: Access, user_id: int) -> selectors.MemberRow:
    row = selectors.member_get(organization=access.organization(), user_id=str(user_id))
    if row is None:
        raise Http404("Member not found")
    return row


def _accept_url(request: HttpRequest) -> Callable[[str], str]:
    """The absolute link an invitation email carries (the invitations page's URL name)."""

    def build(token: str) -> str:
        for name in ("invitation-accept", "invitation_accept"):
            try:
                return request.build_absolute_uri(reverse(name, kwargs={"token": token}))
            except NoReverseMatch:
                continue
        return request.build_absolute_uri(f"/invitations/{token}/")

    return build


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:read")
    organization = access.organization()
    invite_form = MemberInviteForm(request.POST or None, prefix="invite")
    if request.method == "POST":
        require_scope(access, "members:write")
        if invite_form.is_valid():
            email = invite_form.cleaned_data["email"]
            try:
                result = services.member_add_by_email(
                    organization=organization,
                    email=email,
                    role=invite_form.cleaned_data["role"],
                    actor=request.user,
                    accept_url=_accept_url(request),
                )
            except DomainError as exc:
                add_domain_error(invite_form, exc)
            else:
                if result.result == "invited":
                    messages.success(request, f"Invitation sent to {email}.")
                else:
                    messages.success(request, f"{email} was added as {invite_form.cleaned_data['role']}.")
                return redirect("members")
    offered = _tenant_roles_offered(access)
    rows = [
        {
            "member": row,
            "form": MemberRoleForm(initial={"role": row.role}, prefix=f"m{row.user.pk}"),
            # Tenant roles: for tenant owners/admins, on rows that do not outrank them.
            "tenant_form": MemberTenantRoleForm(
                initial={"tenant_role": row.tenant_role or NO_TENANT_ROLE}, prefix=f"t{row.user.pk}", offered=offered
            )
            if offered and row.rank <= roles.effective_rank(access.tenant_role, access.org_role)
            else None,
        }
        for row in selectors.org_members(organization=organization)
    ]
    return render(
        request,
        "orgs/members.html",
        {
            "rows": rows,
            "invitations": list(selectors.pending_invitations(organization=organization)),
            "invite_form": invite_form,
            "can_write": "members:write" in access.scopes,
            "show_tenant_help": bool(offered),
            "role_help": ROLE_HELP,
            "access": access,
        },
        status=400 if invite_form.errors else 200,
    )


@login_required
@require_POST
def member_role(request: HttpRequest, user_id: int) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:write")
    member = _member_or_404(access, user_id)
    form = MemberRoleForm(request.POST, prefix=f"m{user_id}")
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("members")
    try:
        services.member_update(
            organization=access.organization(), user=member.user, actor=request.user, role=form.cleaned_data["role"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{member.user.email} is now {form.cleaned_data['role']} of this organization.")
    return redirect("members")


def _tenant_roles_offered(access: Access) -> list[str] | None:
    """Tenant roles the acting user may hand out (rendered choices only; the service
    checks again): owners all of them, admins up to admin, others none."""
    if "members:write" not in access.scopes:
        return None
    if access.tenant_role == roles.TenantRole.OWNER:
        return [NO_TENANT_ROLE, roles.TenantRole.ADMIN, roles.TenantRole.OWNER]
    if access.tenant_role == roles.TenantRole.ADMIN:
        return [NO_TENANT_ROLE, roles.TenantRole.ADMIN]
    return None


@login_required
@require_POST
def member_tenant_role(request: HttpRequest, user_id: int) -> HttpResponse:
    """Make someone in the org a tenant owner/admin or drop their tenant role, through
    orgs.services.member_update (→ tenant_member_set): only owners grant owner, nobody
    changes someone above them, and the last owner cannot be demoted."""
    access = current_access(request)
    require_scope(access, "members:write")
    require_tenant_role(access, roles.TenantRole.OWNER, roles.TenantRole.ADMIN)
    member = _member_or_404(access, user_id)
    form = MemberTenantRoleForm(request.POST, prefix=f"t{user_id}")
    if not form.is_valid():
        messages.error(request, "Choose a valid tenant role.")
        return redirect("members")
    role = form.role()
    email = member.user.email
    try:
        services.member_update(
            organization=access.organization(), user=member.user, actor=request.user, tenant_role=role
        )
    except DomainError as exc:
        messages.error(request, f"{email}: {exc.message.rstrip('.')}.")
        return redirect("members")
    if role:
        messages.success(request, f"{email} is now tenant {role}: they reach every organization of the tenant.")
        return redirect("members")
    if member.role:
        messages.success(request, f"{email} no longer has a tenant role; they stay {member.role} of this organization.")
        return redirect("members")
    messages.success(request, f"{email} no longer has a tenant role and no longer reaches this organization.")
    # Someone who just dropped their own way into this org cannot see its members any more.
    return redirect("dashboard" if member.user.pk == request.user.pk else "members")


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:write")
    member = _member_or_404(access, user_id)
    error = None
    if request.method == "POST":
        try:
            services.member_remove(organization=access.organization(), user=member.user, actor=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"{member.user.email} was removed from {access.org.name}.")  # type: ignore[union-attr]
            return redirect("members")
    return render(request, "orgs/member_remove.html", {"member": member, "error": error}, status=400 if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def tenant_settings(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    require_tenant_role(access, roles.TenantRole.OWNER)
    tenant = Tenant.objects.get(pk=access.tenant_pk)
    initial = {field: getattr(tenant, field) for field in TenantSettingsForm.base_fields}
    form = TenantSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.tenant_update(tenant=tenant, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Tenant settings saved.")
            return redirect("tenant_settings")
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
        form = OrgRenameForm(request.POST or None, initial={"name": organization.name})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only tenant owners/admins and organization admins can rename an organization")
        if form.is_valid():
            old_name = organization.name
            try:
                services.org_rename(
                    organization=organization,
                    name=form.cleaned_data["name"],
                    actor=request.user,
                    enforce_permissions=True,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                if organization.name == old_name:
                    messages.info(request, "Nothing changed.")
                else:
                    messages.success(request, f"Organization renamed to “{organization.name}”.")
                return redirect("org_settings")
    return render(
        request,
        "orgs/org_settings.html",
        {"organization": organization, "form": form, "access": access},
        status=400 if form is not None and form.errors else 200,
    )
