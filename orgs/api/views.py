"""Organizations and members over the API (SPEC §5).

Endpoints under ``organizations/{org_id}/`` take the org from the path: it is the org hint
for resolution, so scopes and roles are those of that org, and an org the caller cannot
reach is a 404 (never a hint that it exists).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orgs import access as access_mod
from orgs import members, selectors, services
from orgs.access import Access, is_key_principal
from orgs.api import serializers as s
from orgs.models import Organization, Tenant
from orgs.permissions import ScopedPermission
from tater.api.errors import ApiError, Forbidden, NotFound, ValidationFailed
from tater.api.fields import NoBodyInput
from tater.api.permissions import BUSINESS_READ_TYPES
from tater.api.schema import error_response
from tater.api.views import TaterAPIView


class OrganizationListPermission(ScopedPermission):
    """Sessions list and create organizations without first choosing one.

    Every role in any org grants ``organizations:read``, and creation is decided by the
    tenant role in the service, so a session needs no resolved org here. Keys go through
    the usual checks (type, binding, scope).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if is_key_principal(request.auth) or not (request.user and request.user.is_authenticated):
            return super().has_permission(request, view)
        request.access = access_mod.for_session(request, org_required=False)  # type: ignore[attr-defined]
        return True


def _user_tenant(request: Request, access: Access) -> Tenant:
    """The tenant a session acts in: ``tenantId`` if given (one of the user's), else the resolved one."""
    hint = access_mod.tenant_hint(request)
    if hint is None or access.via_key:
        tenant = Tenant.objects.filter(pk=access.tenant_pk).first()
    else:
        barred = access_mod.session_bars(request, request.user) if access_mod.token_tenant(request) is None else {}
        tenant = selectors.tenants_for_user(user=request.user, excluding=barred).filter(public_id=hint).first()
        if tenant is None:
            raise Forbidden(f"No access to tenant {hint!r}", code="WORKSPACE_ACCESS_DENIED")
    if tenant is None:
        raise Forbidden("You are not a member of any tenant", code="WORKSPACE_ACCESS_DENIED")
    return tenant


class OrganizationListView(TaterAPIView):
    """The organizations the caller may reach: an org-scoped key sees its org; an unbound
    key its tenant's orgs; a session every org its user reaches (narrow with `tenantId`); an
    identity-provider token those of its provider's tenant.

    POST creates an organization: tenant owners and admins only, with a session or an
    unbound key (an org-scoped key is confined to its org and gets 403).
    """

    required_scopes = {"GET": "organizations:read", "POST": "organizations:write"}
    allowed_key_types = {"GET": BUSINESS_READ_TYPES}
    org_required = False
    unbound_keys = "all"
    # Paged, not filtered: a misspelt parameter is a 400, never ignored (SPEC §2a).
    query_fields = {"GET": frozenset(s.OrganizationListQuery().fields)}
    permission_classes = [OrganizationListPermission]

    @extend_schema(parameters=[s.OrganizationListQuery], responses={200: s.OrganizationListOutput})
    def get(self, request: Request) -> Response:
        query = s.OrganizationListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        orgs = self.reachable(request)
        total, rows = orgs.count(), list(orgs[offset : offset + limit])
        return Response(
            {
                "organizations": s.OrganizationOutput(rows, many=True).data,
                "total": total,
                "limit": limit,
                "offset": offset,
            }
        )

    def reachable(self, request: Request) -> QuerySet[Organization]:
        """The orgs the caller reaches, in a total order (so pages read each org once)."""
        access = self.access(request)
        orgs = Organization.objects.select_related("tenant")
        if access.key is not None:
            if access.key.is_unbound:
                orgs = orgs.filter(tenant_id=access.tenant_pk)
            else:
                orgs = orgs.filter(pk=access.key.org.pk)
            return orgs.order_by("name", "pk")
        confined_to = access_mod.token_tenant(request)  # an identity-provider token: its tenant's
        barred = access_mod.session_bars(request, request.user) if confined_to is None else {}
        orgs = selectors.orgs_reachable_by_user(user=request.user, excluding_tenants=barred)
        if confined_to is not None:
            orgs = orgs.filter(tenant_id=confined_to)
        tenant = access_mod.tenant_hint(request)
        if tenant is not None:
            orgs = orgs.filter(tenant__public_id=tenant)
        return orgs.order_by("tenant__name", "name", "pk")

    @extend_schema(request=s.OrganizationCreateInput, responses={201: s.OrganizationOutput})
    def post(self, request: Request) -> Response:
        access = self.access(request)
        if access.key is not None and not access.key.is_unbound:
            raise Forbidden("An organization-scoped key cannot create organizations: use an unbound key or a session")
        body = s.OrganizationCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        tenant = _user_tenant(request, access)
        org = services.org_create(
            tenant=tenant,
            name=body.validated_data["name"],
            actor=selectors.actor_for_access(self.access(request), request.user),
            enforce_permissions=True,
        )
        return Response(s.OrganizationOutput(org).data, status=status.HTTP_201_CREATED)


class OrgPathView(TaterAPIView):
    """Base for ``organizations/{org_id}/…``: the path names the org."""

    org_in_path = True
    # The org is explicit, so an unbound key is never ambiguous here (owners only anyway).
    unbound_keys = "all"
    # Reads no query parameter but the org hints and format (a view that reads some names
    # them): ``…/members/{id}/?dry_run=true`` is a 400 naming it, never a removal.
    query_fields: dict[str, frozenset[str]] | None = {}

    def check_permissions(self, request: Request) -> None:
        org_id = self.kwargs["org_id"]
        hint = access_mod.org_hint(request)
        if hint is not None and hint != org_id:
            raise ValidationFailed(
                f"{access_mod.ORG_PARAM}: does not match the organization in the path",
                details={"fields": {access_mod.ORG_PARAM: ["Does not match the organization in the path"]}},
            )
        # The path's org is the hint that org resolution (orgs.access) checks.
        request._request.META[access_mod.ORG_HEADER] = org_id
        try:
            super().check_permissions(request)
        except access_mod.SessionBarred:
            raise  # a member's org out of this session's reach: says why (sign in through its SSO)
        except ApiError as exc:
            if exc.code == "WORKSPACE_ACCESS_DENIED":
                raise NotFound() from None
            raise

    def organization(self, request: Request) -> Organization:
        access = self.access(request)
        org = selectors.org_get_by_public_id(tenant_pk=access.tenant_pk, public_id=self.kwargs["org_id"])
        if org is None:
            raise NotFound()
        return org


class OrganizationDetailView(OrgPathView):
    """One organization. PATCH renames it (tenant owners/admins, org admins)."""

    required_scopes = {"GET": "organizations:read", "PATCH": "organizations:write"}
    allowed_key_types = {"GET": BUSINESS_READ_TYPES}

    @extend_schema(responses={200: s.OrganizationOutput})
    def get(self, request: Request, org_id: str) -> Response:
        return Response(s.OrganizationOutput(self.organization(request)).data)

    @extend_schema(request=s.OrganizationUpdateInput, responses={200: s.OrganizationOutput})
    def patch(self, request: Request, org_id: str) -> Response:
        org = self.organization(request)
        body = s.OrganizationUpdateInput(data=request.data)
        body.is_valid(raise_exception=True)
        org = services.org_rename(
            organization=org,
            name=body.validated_data["name"],
            actor=selectors.actor_for_access(self.access(request), request.user),
            enforce_permissions=True,
        )
        return Response(s.OrganizationOutput(org).data)


def _member_or_404(org: Organization, user_id: str) -> selectors.MemberRow:
    row = selectors.member_get(organization=org, user_id=user_id)
    if row is None:
        raise NotFound()
    return row


class MemberListView(OrgPathView):
    """Everyone who reaches the organization (its members and the tenant's owners/admins)
    and, for callers with ``members:write``, its pending invitations. POST adds an existing
    user by email, or emails an invitation (single-use link, expires after 72 h) to an
    unknown address.

    Org admins grant up to admin; tenant owners/admins any org role. Standard keys only:
    member lists hold email addresses, which public keys must not read.
    """

    required_scopes = {"GET": "members:read", "POST": "members:write"}
    allowed_key_types = {"GET": {"standard"}, "POST": {"standard"}}
    query_fields = {"GET": frozenset(s.MemberListQuery().fields)}

    @extend_schema(parameters=[s.MemberListQuery], responses={200: s.MemberListOutput})
    def get(self, request: Request, org_id: str) -> Response:
        query = s.MemberListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        org = self.organization(request)
        members = selectors.org_members_paged(organization=org)
        total, page = members.count(), members[offset : offset + limit]
        # Invitees' addresses are for those who manage members (as on the members page), not
        # for every reader: none without members:write. The same limit/offset pages them
        # (newest first), so no page repeats them all.
        invitations: list[Any] = []
        held: list[Any] = []
        invited = held_total = 0
        if "members:write" in self.access(request).scopes:
            pending = selectors.pending_invitations(organization=org)
            invited = pending.count()
            invitations = list(
                pending.select_related("invited_by").order_by("-created_at", "-pk")[offset : offset + limit]
            )
            # Those whose inviter can no longer grant them for now: refused, so not pending.
            on_hold = selectors.held_invitations(organization=org)
            held_total = on_hold.count()
            held = list(on_hold.select_related("invited_by").order_by("-created_at", "-pk")[offset : offset + limit])
        return Response(
            {
                "members": [s.member_data(row) for row in page],
                "total": total,
                "limit": limit,
                "offset": offset,
                "pending_invitations": s.InvitationOutput(invitations, many=True).data,
                "pending_invitations_total": invited,
                "held_invitations": s.InvitationOutput(held, many=True).data,
                "held_invitations_total": held_total,
            }
        )

    @extend_schema(
        request=s.MemberCreateInput,
        responses={201: s.MemberCreateOutput, 409: error_response(409)},
    )
    def post(self, request: Request, org_id: str) -> Response:
        org = self.organization(request)
        body = s.MemberCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        result = members.member_add_by_email(
            organization=org,
            email=body.validated_data["email"],
            role=body.validated_data["role"],
            actor=selectors.actor_for_access(self.access(request), request.user),
            accept_url=_accept_url(request),
        )
        member = None
        if result.user is not None:
            member = s.member_data(_member_or_404(org, result.user.public_id))
        invitation = s.InvitationOutput(result.invitation).data if result.invitation is not None else None
        return Response(
            {"result": result.result, "member": member, "invitation": invitation}, status=status.HTTP_201_CREATED
        )


class MemberDetailView(OrgPathView):
    """One member, by user id. PATCH changes the org role and/or tenant role; DELETE
    removes them (a tenant owner/admin also loses the tenant role). Nobody grants a role
    above their own or changes someone above them; the tenant's last owner can be
    neither demoted nor removed (409 CONFLICT). Role changes apply to the member's API
    keys on their next request."""

    required_scopes = {"GET": "members:read", "PATCH": "members:write", "DELETE": "members:write"}
    allowed_key_types = {"GET": {"standard"}, "PATCH": {"standard"}, "DELETE": {"standard"}}
    # Removing someone takes their keys' access away; a role change may raise it (the member
    # page in the UI, outside the API's limits, changes roles during an outage).
    admitted_during_outage = frozenset({"DELETE"})

    @extend_schema(responses={200: s.MemberOutput})
    def get(self, request: Request, org_id: str, user_id: str) -> Response:
        return Response(s.member_data(_member_or_404(self.organization(request), user_id)))

    @extend_schema(request=s.MemberUpdateInput, responses={200: s.MemberOutput, 409: error_response(409)})
    def patch(self, request: Request, org_id: str, user_id: str) -> Response:
        org = self.organization(request)
        row = _member_or_404(org, user_id)
        body = s.MemberUpdateInput(data=request.data)
        body.is_valid(raise_exception=True)
        members.member_update(
            organization=org,
            user=row.user,
            actor=selectors.actor_for_access(self.access(request), request.user),
            **body.validated_data,
        )
        # Dropping the tenant role of someone without an org role leaves them outside the org:
        # answer with their (now empty) roles rather than a 404.
        after = selectors.member_get(organization=org, user_id=user_id)
        if after is None:
            after = selectors.MemberRow(user=row.user, role=None, tenant_role=None, joined_at=row.joined_at)
        return Response(s.member_data(after))

    @extend_schema(responses={204: None, 409: error_response(409)})
    def delete(self, request: Request, org_id: str, user_id: str) -> Response:
        org = self.organization(request)
        row = _member_or_404(org, user_id)
        NoBodyInput(data=request.data).is_valid(raise_exception=True)
        members.member_remove(
            organization=org, user=row.user, actor=selectors.actor_for_access(self.access(request), request.user)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


def _accept_url(request: Request) -> Any:
    return lambda token: request.build_absolute_uri(reverse("invitation-accept", args=[token]))


class InvitationDetailView(OrgPathView):
    """DELETE withdraws a pending (or expired, or held) invitation of this organization: its link
    stops working at once (audit ``member.invitation_revoked``), as the members page's Revoke
    button. An invitation already accepted or revoked, or of another org, is a 404."""

    required_scopes = {"DELETE": "members:write"}
    allowed_key_types = {"DELETE": {"standard"}}
    # Withdrawing a link takes access away, as removing a member: admitted while limits fail
    # closed (README "a Redis outage never blocks revocation"); a resend gives it and waits.
    admitted_during_outage = frozenset({"DELETE"})

    @extend_schema(responses={204: None, 404: error_response(404)})
    def delete(self, request: Request, org_id: str, invitation_id: str) -> Response:
        org = self.organization(request)
        NoBodyInput(data=request.data).is_valid(raise_exception=True)
        members.invitation_revoke(
            organization=org,
            invitation_id=invitation_id,
            actor=selectors.actor_for_access(self.access(request), request.user),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(OrgPathView):
    """Sends a pending (or expired, or held) invitation again, as the members page's Resend
    button: a new link by email (the previous one stops working), valid 72 h from now, and the
    caller vouches for it from now on (``invited_by``; audit ``member.invitation_resent``). The
    caller must be able to grant its role. The link goes by email only, as on creation."""

    required_scopes = {"POST": "members:write"}
    allowed_key_types = {"POST": {"standard"}}

    @extend_schema(request=None, responses={200: s.InvitationOutput, 404: error_response(404)})
    def post(self, request: Request, org_id: str, invitation_id: str) -> Response:
        org = self.organization(request)
        NoBodyInput(data=request.data).is_valid(raise_exception=True)
        sent = members.invitation_resend(
            organization=org,
            invitation_id=invitation_id,
            actor=selectors.actor_for_access(self.access(request), request.user),
            accept_url=_accept_url(request),
        )
        return Response(s.InvitationOutput(sent.invitation).data)
