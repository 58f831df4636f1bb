"""Org pages: org switcher, new organization, members (settings: orgs.settings_views; the
dashboard: portal.views).
Views resolve the org (orgs.ui), call one selector or service and render; service
errors are shown on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from orgs import members as member_services
from orgs import roles, selectors, services
from orgs.access import ORG_PARAM, SESSION_ORG_KEY, Access
from orgs.elsewhere import require_tenant_page
from orgs.forms import (
    NO_TENANT_ROLE,
    ROLE_HELP,
    TENANT_ROLE_LABELS,
    MemberInviteForm,
    MemberRoleForm,
    MemberTenantRoleForm,
    OrgCreateForm,
    OrgSwitchForm,
    add_domain_error,
)
from orgs.member_page import back_to_members, members_page, pages_shown, tenant_roles_offered
from orgs.models import Tenant
from orgs.ui import current_access, org_query, require_scope, require_tenant_role, session_barred, url_in_org
from tater.emails import normalize_email
from tater.exceptions import DomainError, ObjectNotFound
from tater.resubmission import already_submitted, mark_submitted, new_submit_token
from tater.shown_values import refuse_changed_meanwhile


@login_required
@require_http_methods(["GET", "POST"])
def org_switch(request: HttpRequest) -> HttpResponse:
    """Make an org the session's current org; an org the user cannot reach is a 404. The
    switcher posts here; a GET (the address typed or bookmarked) changes nothing and goes
    to the dashboard, where the switcher is."""
    if request.method == "GET":
        return redirect("/")
    form = OrgSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("Organization not found")
    reachable = selectors.orgs_reachable_by_user(user=request.user, excluding_tenants=session_barred(request))
    org = reachable.filter(public_id=form.cleaned_data["org"]).first()
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
    path, _, query = target.partition("?")
    try:
        match = resolve(path)
    except Resolver404:
        return "/"
    # Object pages and org-specific query strings (filters, pages) belong to the previous org;
    # the org hint alone only named the org being left.
    filters = [name for name in QueryDict(query) if name != ORG_PARAM]
    return "/" if match.kwargs or filters else path


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest) -> HttpResponse:
    access = current_access(request, org_required=False)
    allowed = (roles.TenantRole.OWNER, roles.TenantRole.ADMIN)
    refused = require_tenant_page(request, access, *allowed, title="New organization", url_name="org_create")
    if refused is not None:
        return refused
    form = OrgCreateForm(
        request.POST if request.method == "POST" else None, initial={"submit_token": new_submit_token()}
    )
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["submit_token"]
        if already_submitted(request, token):
            messages.info(request, "That form was already submitted: the organization was created once.")
            return redirect("dashboard")
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
            mark_submitted(request, token)
            messages.success(request, f"Organization “{org.name}” created. It is now your current organization.")
            return redirect("dashboard")
    return render(request, "orgs/org_create.html", {"form": form}, status=400 if form.errors else 200)


def _member_gone(request: HttpRequest, access: Access, user_id: int) -> HttpResponse:
    """A member form (remove, role, tenant role) posted for someone no longer here (a second
    press, a members page opened before another admin removed them): a person this org removed
    is named on the members page and nothing changes; any other user id is a 404."""
    user = selectors.former_member_get(organization=access.organization(), user_pk=user_id)
    if user is None:
        raise Http404("Member not found")
    messages.info(request, f"{user.email} is no longer a member of this organization: nothing changed.")
    return redirect(url_in_org(request, access, "members"))


class _LinkRecorder:
    """The accept-link builder handed to the invitation services; it remembers the link it
    built, so the page can offer it once for copying (the service stores only a digest)."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request
        self.link = ""

    def __call__(self, token: str) -> str:
        path = f"/invitations/{token}/"
        for name in ("invitation-accept", "invitation_accept"):
            try:
                path = reverse(name, kwargs={"token": token})
                break
            except NoReverseMatch:
                continue
        self.link = self.request.build_absolute_uri(path)
        return self.link


def _accept_url(request: HttpRequest) -> Callable[[str], str]:
    """The absolute link an invitation email carries (the invitations page's URL name)."""
    return _LinkRecorder(request)


def _invitation_sent(request: HttpRequest, invitation: Any, link: str, *, resent: bool) -> HttpResponse:
    """The link, shown once in this POST response (never stored, never in a message or a
    URL): the inviter may pass it on themselves. Only the invited address can accept it."""
    response = render(
        request,
        "orgs/invitation_sent.html",
        {
            "invitation": invitation,
            "link": link,
            "resent": resent,
            "outbox": _outbox_url(request),
            "members_url": url_in_org(request, current_access(request), "members"),
        },
    )
    add_never_cache_headers(response)
    return response


def _outbox_url(request: HttpRequest) -> str | None:
    """The tenant outbox, for tenant owners, when mail is kept there rather than sent."""
    access = current_access(request)
    if access.tenant_role != roles.TenantRole.OWNER or not settings.EMAIL_BACKEND.endswith(".OutboxMailBackend"):
        return None
    try:
        return reverse("tenant_outbox")
    except NoReverseMatch:
        return None


def _role_refused(
    request: HttpRequest, access: Access, form: MemberRoleForm | MemberTenantRoleForm, email: str, reason: str
) -> HttpResponse:
    """A refused role change: the members page again (400), the chosen role still selected, the
    reason on that person's select and, at the top, whose change was refused and why."""
    field = "role" if isinstance(form, MemberRoleForm) else "tenant_role"
    kind = "organization role" if field == "role" else "tenant role"
    form.errors.pop(field, None)  # Django's "Select a valid choice" names no choice
    form.add_error(field, reason)
    messages.error(request, f"The {kind} of {email} was not changed: {reason.rstrip('.')}.")
    return members_page(request, access, MemberInviteForm(prefix="invite"), failed=form)


ROLE_CHOICE_ERROR = "Choose one of: {choices}."


@login_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:read")
    organization = access.organization()
    invite_form = MemberInviteForm(request.POST if request.method == "POST" else None, prefix="invite")
    if request.method == "POST":
        require_scope(access, "members:write")
        if invite_form.is_valid():
            email = invite_form.cleaned_data["email"]
            role = invite_form.cleaned_data["role"]
            pending = (
                selectors.pending_invitations(organization=organization).filter(email=normalize_email(email)).first()
            )
            if pending is not None and not invite_form.cleaned_data["replace"]:
                # Re-inviting would replace the pending invitation (and its role): ask first.
                return members_page(request, access, invite_form, pending=pending, pending_role=role)
            links = _LinkRecorder(request)
            try:
                result = member_services.member_add_by_email(
                    organization=organization, email=email, role=role, actor=request.user, accept_url=links
                )
            except DomainError as exc:
                add_domain_error(invite_form, exc)
            else:
                if result.result == "invited":
                    return _invitation_sent(request, result.invitation, links.link, resent=False)
                messages.success(request, f"{email} was added as {role}.")
                return redirect(url_in_org(request, access, "members"))
    return members_page(request, access, invite_form)


def _invitation_gone(request: HttpRequest, access: Access, invitation_id: str) -> HttpResponse:
    """Resend/revoke of an invitation no longer pending (a second press, a page opened before it
    was accepted): this org's says what became of it on the members page; any other id is a 404."""
    invitation = selectors.invitation_get(organization=access.organization(), public_id=invitation_id)
    if invitation is None:
        raise Http404("Invitation not found")
    if invitation.accepted_at is not None:
        messages.info(request, f"{invitation.email} already accepted the invitation: nothing changed.")
    else:
        messages.info(request, f"The invitation of {invitation.email} was already revoked: nothing changed.")
    return redirect(url_in_org(request, access, "members"))


@login_required
@require_POST
def invitation_resend(request: HttpRequest, invitation_id: str) -> HttpResponse:
    """Send a pending or expired invitation again, with a new link (the old one stops working)."""
    access = current_access(request)
    require_scope(access, "members:write")
    links = _LinkRecorder(request)
    try:
        sent = member_services.invitation_resend(
            organization=access.organization(), invitation_id=invitation_id, actor=request.user, accept_url=links
        )
    except ObjectNotFound:
        return _invitation_gone(request, access, invitation_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(url_in_org(request, access, "members"))
    return _invitation_sent(request, sent.invitation, sent.link, resent=True)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: str) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:write")
    try:
        invitation = member_services.invitation_revoke(
            organization=access.organization(), invitation_id=invitation_id, actor=request.user
        )
    except ObjectNotFound:
        return _invitation_gone(request, access, invitation_id)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The invitation of {invitation.email} was revoked: its link no longer works.")
    return redirect(url_in_org(request, access, "members"))


ORG_ROLE_RANKS = {role: roles.ORG_ROLE_RANK[role] for role in roles.OrgRole.values}


def _with_pages(request: HttpRequest, url: str) -> str:
    """``url`` (which has a query) carrying the member list pages the form was posted from."""
    pages = pages_shown(request)
    return f"{url}&{pages}" if pages else url


def _confirm_demotion(
    request: HttpRequest,
    member: selectors.MemberRow,
    *,
    kind: str,
    old: str,
    new: str,
    field: str,
    action: str,
    members_url: str,
) -> HttpResponse:
    """A lower role takes access away at once (and narrows the person's keys): ask first."""
    return render(
        request,
        "orgs/member_role_confirm.html",
        {
            "member": member,
            "kind": kind,
            "old": old,
            "new": new,
            "field": field,
            "value": request.POST.get(field, ""),
            "confirm_field": f"{field.split('-', 1)[0]}-confirm",
            "action": action,
            "new_help": ROLE_HELP.get(new, ""),
            "is_self": member.user.pk == request.user.pk,
            "members_url": members_url,
        },
    )


@login_required
@require_POST
def member_role(request: HttpRequest, user_id: int) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:write")
    member = selectors.member_get_by_pk(organization=access.organization(), user_pk=user_id)
    if member is None:
        return _member_gone(request, access, user_id)
    form = MemberRoleForm(request.POST, prefix=f"m{user_id}", initial={"role": member.role})
    if not form.is_valid():
        choices = ", ".join(str(label) for _, label in roles.OrgRole.choices)
        return _role_refused(request, access, form, member.user.email, ROLE_CHOICE_ERROR.format(choices=choices))
    if refuse_changed_meanwhile(form, {"role": member.role}):
        # Someone else changed it since the page was opened: not replaced unseen.
        reason = " ".join(map(str, form.errors["role"]))
        return _role_refused(request, access, form, member.user.email, reason)
    role = form.cleaned_data["role"]
    if role == member.role or "role" not in form.changed_data:
        # Unchanged on the page: a role someone else gave meanwhile stays.
        messages.info(request, f"{member.user.email} is {member.role}: nothing changed.")
        return redirect(back_to_members(request, access))
    demotion = member.role and ORG_ROLE_RANKS[role] < ORG_ROLE_RANKS[member.role]
    if demotion and member.role is not None and not form.cleaned_data["confirm"]:
        return _confirm_demotion(
            request,
            member,
            kind="organization role",
            old=member.role,
            new=role,
            field=f"m{user_id}-role",
            action=_with_pages(request, f"{reverse('member_role', args=[user_id])}?{org_query(access)}"),
            members_url=back_to_members(request, access),
        )
    try:
        member_services.member_update(
            organization=access.organization(), user=member.user, actor=request.user, role=role
        )
    except DomainError as exc:
        return _role_refused(request, access, form, member.user.email, exc.message)
    messages.success(request, f"{member.user.email} is now {role} of this organization.")
    return redirect(back_to_members(request, access))


@login_required
@require_POST
def member_tenant_role(request: HttpRequest, user_id: int) -> HttpResponse:
    """Make someone in the org a tenant owner/admin or drop their tenant role, through
    orgs.member_services.member_update (→ tenant_member_set): only owners grant owner, nobody
    changes someone above them, and the last owner cannot be demoted."""
    access = current_access(request)
    require_scope(access, "members:write")
    require_tenant_role(access, roles.TenantRole.OWNER, roles.TenantRole.ADMIN)
    member = selectors.member_get_by_pk(organization=access.organization(), user_pk=user_id)
    if member is None:
        return _member_gone(request, access, user_id)
    saved = member.tenant_role or NO_TENANT_ROLE
    offered = tenant_roles_offered(access)
    form = MemberTenantRoleForm(request.POST, prefix=f"t{user_id}", offered=offered, initial={"tenant_role": saved})
    if not form.is_valid():
        choices = ", ".join(TENANT_ROLE_LABELS[value] for value in offered or ())
        return _role_refused(request, access, form, member.user.email, ROLE_CHOICE_ERROR.format(choices=choices))
    if refuse_changed_meanwhile(form, {"tenant_role": saved}):
        # Someone else changed it since the page was opened: not replaced unseen.
        reason = " ".join(map(str, form.errors["tenant_role"]))
        return _role_refused(request, access, form, member.user.email, reason)
    role = form.role()
    email = member.user.email
    if role == member.tenant_role or "tenant_role" not in form.changed_data:
        # Unchanged on the page: a tenant role someone else gave meanwhile stays.
        messages.info(request, f"{email}: {TENANT_ROLE_LABELS[saved]}, nothing changed.")
        return redirect(back_to_members(request, access))
    old_rank = roles.TENANT_ROLE_RANK.get(member.tenant_role or "", 0)
    if roles.TENANT_ROLE_RANK.get(role or "", 0) < old_rank and not form.cleaned_data["confirm"]:
        return _confirm_demotion(
            request,
            member,
            kind="tenant role",
            old=TENANT_ROLE_LABELS[member.tenant_role or NO_TENANT_ROLE],
            new=TENANT_ROLE_LABELS[role or NO_TENANT_ROLE],
            field=f"t{user_id}-tenant_role",
            action=_with_pages(request, f"{reverse('member_tenant_role', args=[user_id])}?{org_query(access)}"),
            members_url=back_to_members(request, access),
        )
    try:
        member_services.member_update(
            organization=access.organization(), user=member.user, actor=request.user, tenant_role=role
        )
    except DomainError as exc:
        return _role_refused(request, access, form, email, exc.message)
    if role:
        messages.success(request, f"{email} is now tenant {role}: they reach every organization of the tenant.")
        return redirect(back_to_members(request, access))
    if member.role:
        messages.success(request, f"{email} no longer has a tenant role; they stay {member.role} of this organization.")
        return redirect(back_to_members(request, access))
    messages.success(request, f"{email} no longer has a tenant role and no longer reaches this organization.")
    # Someone who just dropped their own way into this org cannot see its members any more.
    return redirect("dashboard" if member.user.pk == request.user.pk else url_in_org(request, access, "members"))


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "members:write")
    member = selectors.member_get_by_pk(organization=access.organization(), user_pk=user_id)
    if member is None:
        return _member_gone(request, access, user_id)
    error = None
    if request.method == "POST":
        try:
            member_services.member_remove(organization=access.organization(), user=member.user, actor=request.user)
        except ObjectNotFound:
            return _member_gone(request, access, user_id)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, f"{member.user.email} was removed from {access.org.name}.")  # type: ignore[union-attr]
            return redirect(url_in_org(request, access, "members"))
    org_name = access.org.name  # type: ignore[union-attr]
    context = {
        "member": member,
        "error": error,
        "org_name": org_name,
        "members_url": url_in_org(request, access, "members"),
    }
    return render(request, "orgs/member_remove.html", context, status=400 if error else 200)
