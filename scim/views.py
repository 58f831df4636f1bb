"""The tenant owner's SCIM page (Tenant settings → SCIM provisioning): the SCIM base URL,
tokens (create: shown once; revoke) and the mapping of each pushed group to an
organization and a role. Views resolve the tenant, call one selector or service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from orgs import roles
from orgs.access import ORG_PARAM
from orgs.elsewhere import require_tenant_page
from orgs.forms import add_domain_error
from orgs.models import Organization, Tenant
from orgs.selectors import as_actor
from orgs.ui import current_access, kept_query, page_links, require_tenant_role, with_org_hint
from scim import selectors
from scim.forms import UNMAPPED, GroupMappingForm, ScimTokenForm
from scim.models import ScimGroup, ScimToken
from scim.services import groups as group_services
from scim.services import tokens as token_services
from tater.exceptions import DomainError
from tater.resubmission import already_submitted, mark_submitted, new_submit_token
from tater.shown_values import changed_on_page, refuse_changed_meanwhile


def _tenant(request: HttpRequest) -> Tenant:
    """The tenant of a form posted by its owners (no page to offer elsewhere: the plain 403)."""
    access = current_access(request, org_required=False)
    require_tenant_role(access, roles.TenantRole.OWNER)
    return Tenant.objects.get(pk=access.tenant_pk)


def _tenant_page(
    request: HttpRequest, url_name: str, *args: str, within: QuerySet[Any] | None = None
) -> Tenant | HttpResponse:
    """The tenant of a page of its owners; an owner of other tenants working in one they do not
    own is offered the page there (``orgs.elsewhere``), anyone else gets the plain 403."""
    access = current_access(request, org_required=False)
    owner = roles.TenantRole.OWNER
    refused = require_tenant_page(
        request, access, owner, title="SCIM provisioning", url_name=url_name, args=args, within=within
    )
    return refused if refused is not None else Tenant.objects.get(pk=access.tenant_pk)


def scim_base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("scim-root")).rstrip("/")


def _organizations(tenant: Tenant) -> list[tuple[str, str]]:
    return [(o.public_id, o.name) for o in Organization.objects.filter(tenant=tenant).order_by("name")]


def _mapping(group: ScimGroup) -> dict[str, str]:
    """A group's mapping as its form shows it."""
    return {
        "organization": group.organization.public_id if group.organization else UNMAPPED,
        "role": group.role or roles.OrgRole.MEMBER,
    }


GROUPS_PER_PAGE = 50
# The group list's query parameters: what its paging links (with the org hint) and the mapping
# forms (whose actions name the org already) carry back.
LIST_PARAMS = ("q", "page")


def _list_query(request: HttpRequest, *, keep_org: bool = True, **changes: object) -> str:
    return kept_query(request, (*LIST_PARAMS, ORG_PARAM) if keep_org else LIST_PARAMS, **changes).urlencode()


def _settings_url(request: HttpRequest, query: str) -> str:
    return with_org_hint(request, f"{reverse('scim_settings')}?{query}" if query else reverse("scim_settings"))


def _page(request: HttpRequest, tenant: Tenant, token_form: ScimTokenForm, status: int = 200) -> HttpResponse:
    organizations = _organizations(tenant)
    search = request.GET.get("q", "").strip()[:100]
    found = selectors.scim_groups_counted(tenant=tenant).order_by("display_name", "pk")
    if search:
        found = found.filter(display_name__icontains=search)
    page = Paginator(found, GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    groups = [
        (
            group,
            GroupMappingForm(prefix=group.public_id, organizations=organizations, initial=_mapping(group)),
        )
        for group in page.object_list
    ]
    links = page_links(page, lambda number: _settings_url(request, _list_query(request, page=number)))
    context = {
        "tenant": tenant,
        "scim_url": scim_base_url(request),
        "tokens": selectors.scim_token_list(tenant=tenant, actor=as_actor(request.user, tenant)),
        "token_form": token_form,
        "groups": groups,
        "page": page,
        "group_pages": links,
        "search": search,
        # The mapping forms come back to the page (and search) they were on.
        "list_query": _list_query(request, keep_org=False, **({"page": page.number} if page.number > 1 else {})),
    }
    return render(request, "scim/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def scim_settings(request: HttpRequest) -> HttpResponse:
    """GET: the page. POST: create a token and show it once."""
    tenant = _tenant_page(request, "scim_settings")
    if isinstance(tenant, HttpResponse):
        return tenant
    form = ScimTokenForm(
        request.POST if request.method == "POST" else None, initial={"submit_token": new_submit_token()}
    )
    if request.method == "POST" and form.is_valid():
        if already_submitted(request, form.cleaned_data["submit_token"]):
            messages.warning(
                request,
                "That form was already submitted. A token is shown only once: if you did not store it, "
                "revoke it and create a new one.",
            )
            return redirect(with_org_hint(request, reverse("scim_settings")))
        try:
            issued = token_services.scim_token_create(tenant=tenant, name=form.cleaned_data["name"], actor=request.user)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            mark_submitted(request, form.cleaned_data["submit_token"])
            response = render(
                request,
                "scim/token_issued.html",
                {"token": issued.token, "secret": issued.secret, "scim_url": scim_base_url(request), "tenant": tenant},
            )
            add_never_cache_headers(response)  # the page carries the secret
            return response
    return _page(request, tenant, form, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def scim_token_revoke(request: HttpRequest, token_id: str) -> HttpResponse:
    """GET: confirm (revocation is final and stops provisioning). POST: revoke."""
    holding = ScimToken.objects.filter(public_id=token_id).values("tenant_id")
    tenant = _tenant_page(request, "scim_token_revoke", token_id, within=holding)
    if isinstance(tenant, HttpResponse):
        return tenant
    token = selectors.scim_token_get(tenant=tenant, public_id=token_id)
    if token is None:
        raise Http404("No such SCIM token")
    if request.method == "GET":
        return render(request, "scim/token_revoke.html", {"token": token, "tenant": tenant})
    token_services.scim_token_revoke(token=token, actor=request.user)
    messages.success(request, f"SCIM token “{token.name}” revoked: your identity provider can no longer use it.")
    return redirect(with_org_hint(request, reverse("scim_settings")))


@login_required
@require_POST
def scim_group_map(request: HttpRequest, group_id: str) -> HttpResponse:
    tenant = _tenant(request)
    back = _settings_url(request, _list_query(request))
    group = selectors.scim_group_get(tenant=tenant, public_id=group_id)
    if group is None:
        raise Http404("No such group")
    current = _mapping(group)
    form = GroupMappingForm(request.POST, prefix=group.public_id, organizations=_organizations(tenant), initial=current)
    if not form.is_valid():
        messages.error(request, "Choose an organization and a role.")
        return redirect(back)
    if refuse_changed_meanwhile(form, current):
        # Another owner changed it since the page was opened: the page, reloaded, shows it.
        for name, errors in form.errors.items():
            messages.error(
                request, f"{form.fields[name].label} of “{group.display_name}”: {' '.join(map(str, errors))}"
            )
        return redirect(back)
    # Only what was changed on the page (the rest may be older than what is saved now).
    values = {**current, **changed_on_page(form)}
    chosen, role = values["organization"], values["role"]
    organization = Organization.objects.filter(tenant=tenant, public_id=chosen).first() if chosen else None
    try:
        group_services.scim_group_map(group=group, organization=organization, role=role, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if organization is None:
            messages.success(request, f"Group “{group.display_name}” no longer grants access.")
        else:
            messages.success(
                request,
                f"Members of “{group.display_name}” are now {role}s of {organization.name}.",
            )
    return redirect(back)
