"""SCIM tokens over the API: tenant owners list, create (shown once) and revoke them.
The rule (orgs.policy.can_change_tenant_settings, and: issued from a signed-in session
only) lives in scim.services.tokens."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from orgs.models import Tenant
from orgs.selectors import actor_for_access
from scim import selectors
from scim.api import serializers as s
from scim.services import tokens as token_services
from tater.api.errors import NotFound
from tater.api.fields import NoBodyInput
from tater.api.views import TaterAPIView

NOTICE = "This is the only time the token is shown: give it to your identity provider now."


class ScimTokenListView(TaterAPIView):
    """The tenant's SCIM tokens (tenant owners). POST creates one; its secret is in the
    answer only. Creating needs a signed-in session: an API key cannot mint a SCIM token."""

    required_scopes = {"GET": "members:read", "POST": "members:write"}
    org_required = False
    unbound_keys = "all"
    # Paged: any other query parameter (the org hints and format aside) is a 400 naming it.
    query_fields = {"GET": frozenset(s.ScimTokenListQuery().fields), "POST": frozenset()}

    @extend_schema(parameters=[s.ScimTokenListQuery], responses={200: s.ScimTokenListOutput})
    def get(self, request: Request) -> Response:
        query = s.ScimTokenListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        access = self.access(request)
        # Newest first, then by id (the model's order): pages read each token once.
        tokens = selectors.scim_token_list(
            tenant=Tenant(pk=access.tenant_pk), actor=actor_for_access(access, request.user)
        ).select_related("tenant")
        total, rows = tokens.count(), list(tokens[offset : offset + limit])
        return Response(
            {"tokens": s.ScimTokenOutput(rows, many=True).data, "total": total, "limit": limit, "offset": offset}
        )

    @extend_schema(request=s.ScimTokenCreateInput, responses={201: s.IssuedScimTokenOutput})
    def post(self, request: Request) -> Response:
        body = s.ScimTokenCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        access = self.access(request)
        issued = token_services.scim_token_create(
            tenant=Tenant.objects.get(pk=access.tenant_pk),
            name=body.validated_data["name"],
            actor=actor_for_access(access, request.user),
        )
        data = {
            **s.ScimTokenOutput(issued.token).data,
            "token": issued.secret,
            "scim_url": request.build_absolute_uri(reverse("scim-root")).rstrip("/"),
            "notice": NOTICE,
        }
        return Response(data, status=status.HTTP_201_CREATED)


class ScimTokenRevokeView(TaterAPIView):
    required_scopes = {"POST": "members:write"}
    query_fields: dict[str, frozenset[str]] | None = {}  # the org hints only (a 400 names any other)
    org_required = False
    unbound_keys = "all"

    @extend_schema(request=None, responses={200: s.ScimTokenOutput})
    def post(self, request: Request, token_id: str) -> Response:
        NoBodyInput(data=request.data).is_valid(raise_exception=True)
        access = self.access(request)
        actor = actor_for_access(access, request.user)
        token_services.require_token_manager(actor, issuing=False)  # a 403 before telling what exists
        token = selectors.scim_token_get(tenant=Tenant(pk=access.tenant_pk), public_id=token_id)
        if token is None:
            raise NotFound()
        token = token_services.scim_token_revoke(token=token, actor=actor)
        return Response(s.ScimTokenOutput(token).data)
