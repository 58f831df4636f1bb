"""The members page (Members and roles): one page of the people who reach the org and one of
its pending invitations, each with Previous/Next links that keep the org shown and the other
list's page (SPEC §9, §12: a tenant of thousands gets pages, not one page of thousands)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from orgs import roles, selectors
from orgs.access import ORG_PARAM, Access
from orgs.forms import NO_TENANT_ROLE, ROLE_HELP, MemberInviteForm, MemberRoleForm, MemberTenantRoleForm
from orgs.ui import kept_query, org_query, page_links, url_in_org, with_org_hint

MEMBERS_PER_PAGE = 50
INVITATIONS_PER_PAGE = 25
MEMBERS_PAGE = "page"
INVITATIONS_PAGE = "invitations_page"
LIST_PARAMS = (MEMBERS_PAGE, INVITATIONS_PAGE, ORG_PARAM)  # what the lists' links carry on


def _page_links(request: HttpRequest, page: Page[Any], param: str) -> dict[str, str]:
    """``previous``/``next`` URLs of ``page``: the same query (the org hint, the other list's
    page) with ``param`` turned."""
    return page_links(
        page,
        lambda number: with_org_hint(
            request, f"{reverse('members')}?{kept_query(request, LIST_PARAMS, **{param: number}).urlencode()}"
        ),
    )


def pages_shown(request: HttpRequest) -> str:
    """The list pages a form was posted from (``page=2&invitations_page=1``; empty when none):
    a form answered on another page (a demotion's confirmation) carries them on."""
    return kept_query(request, (MEMBERS_PAGE, INVITATIONS_PAGE)).urlencode()


def back_to_members(request: HttpRequest, access: Access) -> str:
    """The members page of the org just acted in, on the pages the form was posted from."""
    url = url_in_org(request, access, "members")
    pages = pages_shown(request)
    return f"{url}{'&' if '?' in url else '?'}{pages}" if pages else url


def tenant_roles_offered(access: Access) -> list[str] | None:
    """Tenant roles the acting user may hand out (rendered choices only; the service
    checks again): owners all of them, admins up to admin, others none."""
    if "members:write" not in access.scopes:
        return None
    if access.tenant_role == roles.TenantRole.OWNER:
        return [NO_TENANT_ROLE, roles.TenantRole.ADMIN, roles.TenantRole.OWNER]
    if access.tenant_role == roles.TenantRole.ADMIN:
        return [NO_TENANT_ROLE, roles.TenantRole.ADMIN]
    return None


def members_page(
    request: HttpRequest,
    access: Access,
    invite_form: MemberInviteForm,
    *,
    failed: MemberRoleForm | MemberTenantRoleForm | None = None,
    **extra: Any,
) -> HttpResponse:
    """``failed``: a refused role form, shown bound (the choice kept, the reason on its select);
    its form's action carried the page it was on, so it is answered on that page."""
    organization = access.organization()
    offered = tenant_roles_offered(access)
    can_write = "members:write" in access.scopes
    own_rank = roles.effective_rank(access.tenant_role, access.org_role)
    page = Paginator(selectors.org_members_paged(organization=organization), MEMBERS_PER_PAGE).get_page(
        request.GET.get(MEMBERS_PAGE)
    )
    rows = [
        {
            "member": row,
            # Nobody changes someone ranked above them (the service's rule): no control that can
            # only be refused.
            "can_change": can_write and row.rank <= own_rank,
            "form": failed
            if isinstance(failed, MemberRoleForm) and failed.prefix == f"m{row.user.pk}"
            else MemberRoleForm(initial={"role": row.role}, prefix=f"m{row.user.pk}"),
            # Tenant roles: for tenant owners/admins, on rows that do not outrank them.
            "tenant_form": (
                failed
                if isinstance(failed, MemberTenantRoleForm) and failed.prefix == f"t{row.user.pk}"
                else MemberTenantRoleForm(
                    initial={"tenant_role": row.tenant_role or NO_TENANT_ROLE},
                    prefix=f"t{row.user.pk}",
                    offered=offered,
                )
            )
            if offered and row.rank <= own_rank
            else None,
        }
        for row in page.object_list
    ]
    # Invitees' addresses are for those who manage members, not for every reader.
    invitations = Paginator(
        selectors.pending_invitations(organization=organization).order_by("-created_at", "-pk")
        if can_write
        else selectors.pending_invitations(organization=organization).none(),
        INVITATIONS_PER_PAGE,
    ).get_page(request.GET.get(INVITATIONS_PAGE))
    # Invitations whose sender can no longer grant them (deactivated, deprovisioned): refused
    # meanwhile, so apart from the pending ones; the first page of them, with a count.
    held = selectors.held_invitations(organization=organization) if can_write else None
    held_total = held.count() if held is not None else 0
    held_shown = list(held.order_by("-created_at", "-pk")[:INVITATIONS_PER_PAGE]) if held is not None else []
    # The pages shown, for the forms' actions: a refused form answers on the page it was on.
    shown = urlencode({MEMBERS_PAGE: page.number, INVITATIONS_PAGE: invitations.number})
    return render(
        request,
        "orgs/members.html",
        {
            "rows": rows,
            "page": page,
            "member_pages": _page_links(request, page, MEMBERS_PAGE),
            "invitations": list(invitations.object_list),
            "invitations_page": invitations,
            "invitation_pages": _page_links(request, invitations, INVITATIONS_PAGE),
            "held_invitations": held_shown,
            "held_total": held_total,
            "now": timezone.now(),
            "invite_form": invite_form,
            "can_write": can_write,
            "show_tenant_help": bool(offered),
            "role_help": ROLE_HELP,
            "access": access,
            "org_query": org_query(access),
            "pages_query": shown,
            "members_url": url_in_org(request, access, "members"),
            **extra,
        },
        status=400 if invite_form.errors or failed is not None else 200,
    )
