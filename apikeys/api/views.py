from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apikeys import keygen, selectors, services, uses
from apikeys.api import serializers as s
from apikeys.authentication import presented_key
from apikeys.models import ApiKey, previous_secret_ends
from apikeys.principal import KeyPrincipal, sorted_scopes
from orgs import policy
from orgs.access import Access
from orgs.models import Tenant
from tater.api.errors import ApiError
from tater.api.fields import NoBodyInput
from tater.api.views import TaterAPIView


class ValidateView(TaterAPIView):
    """Is the presented key valid; its id, type, prefix, org, tenant, effective permissions."""

    required_scopes = {"GET": None}
    allowed_key_types = {"GET": {"standard", "agent", "public"}}
    org_required = False
    # Reads no parameter but the org hints (and ``format``): any other, a misspelt hint
    # included, is a 400 naming it, never answered as if it were absent (SPEC §3).
    query_fields: dict[str, frozenset[str]] | None = {"GET": frozenset()}

    @extend_schema(responses={200: s.ValidateOutput})
    def get(self, request: Request) -> Response:
        principal = request.auth
        if not isinstance(principal, KeyPrincipal):
            raise ApiError(
                "This endpoint validates an API key: send it in the X-API-Key header",
                code="UNAUTHORIZED",
                status_code=401,
            )
        prefix, expires_at = _presented_secret(request, principal)
        return Response(
            {
                "valid": True,
                "id": principal.public_id,
                "type": principal.type,
                "prefix": prefix,
                "name": principal.name,
                "organization_id": principal.org.public_id if principal.org else None,
                "tenant_id": principal.tenant_public_id,
                "binding": "unbound" if principal.is_unbound else "organization",
                "scopes": list(principal.scopes),
                "permissions": list(sorted_scopes(self.access(request).scopes)),
                "expires_at": expires_at,
                "metadata": principal.metadata,
                "usage": _uses_of(request),
            }
        )


def _presented_secret(request: Request, principal: KeyPrincipal) -> tuple[str, datetime | None]:
    """The display prefix and expiry of the secret presented: a rotated-out secret is its own
    (its prefix, possibly under an earlier deployment prefix) and works until its grace period
    ends or the key expires, whichever comes first; never described as the new secret."""
    raw = presented_key(request) if principal.matched_previous else None
    if raw is None:
        return principal.display_prefix, principal.expires_at
    ends = previous_secret_ends(principal.expires_at, principal.previous_expires_at)
    return keygen.display_prefix_of(raw), ends


def _uses_of(request: Request) -> dict[str, Any] | None:
    """A usage-limited key's limit, remaining uses (after this request) and refill."""
    rate = getattr(request, "rate_limit", None)  # the WSGI request's, through DRF's Request
    counted = getattr(rate, "uses", None)
    return counted.as_json() if counted is not None else None


def _actor(request: Request) -> policy.Actor:
    """Who acts: the request's user, through the key the call came with (if any)."""
    return selectors.actor_of(TaterAPIView.access(request), request.user)


def _key(request: Request, key_id: str) -> tuple[policy.Actor, ApiKey]:
    actor = _actor(request)
    return actor, selectors.apikey_get(access=TaterAPIView.access(request), public_id=key_id, actor=actor)


class KeyView(TaterAPIView):
    """API keys: creating, listing, reading, narrowing, rotating, deactivating and revoking
    them, within the caller's reach. A query parameter the endpoint does not read is a 400
    naming it (``organizationId`` and ``tenantId`` pick the org as everywhere)."""

    # Per method, the query parameters it reads (TaterAPIView.initial refuses the others once
    # the caller is authenticated; ``format`` is tolerated: the answer is JSON whatever it asks).

    query_fields: dict[str, frozenset[str]] | None = {}


class KeyListView(KeyView):
    required_scopes = {"GET": "keys:read", "POST": "keys:write"}
    query_fields = {"GET": frozenset(s.ApiKeyListQuery().fields)}

    @extend_schema(parameters=[s.ApiKeyListQuery], responses={200: s.ApiKeyListOutput})
    def get(self, request: Request) -> Response:
        query = s.ApiKeyListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        actor = _actor(request)
        keys = selectors.apikey_list(access=self.access(request), filters=params, actor=actor)
        total = keys.count()
        if params.get("starting_after") is not None:
            keys = selectors.apikey_list_after(
                keys, access=self.access(request), actor=actor, public_id=params["starting_after"]
            )
        # One row past the page says whether another follows.
        page = list(keys[params["offset"] : params["offset"] + params["limit"] + 1])
        has_more, page = len(page) > params["limit"], page[: params["limit"]]
        return Response(
            {
                "keys": s.ApiKeyOutput(page, many=True, context={"uses": uses.current_many(page)}).data,
                "total": total,
                "limit": params["limit"],
                "offset": params["offset"],
                "has_more": has_more,
            }
        )

    @extend_schema(request=s.ApiKeyCreateInput, responses={201: s.IssuedKeyOutput})
    def post(self, request: Request) -> Response:
        body = s.ApiKeyCreateInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        access: Access = self.access(request)
        tenant = Tenant.objects.get(pk=access.tenant_pk)
        organization = None if data["unbound"] else access.organization()
        issued = services.apikey_create(
            creator=selectors.actor_of(access, request.user),
            tenant=tenant,
            organization=organization,
            name=data["name"],
            key_type=data["type"],
            scopes=data.get("scopes"),
            expires_at=data.get("expires_at"),
            allowed_ips=data["allowed_ips"],
            rate_limit=data["rate_limit"],
            metadata=data.get("metadata"),
            usage_limit=data.get("usage_limit"),
            usage_refill=data.get("usage_refill", ""),
        )
        return Response(s.issued_key_data(issued.api_key, issued.key), status=status.HTTP_201_CREATED)


class KeyDetailView(KeyView):
    unbound_keys = "tenant"  # an unbound key reaches all of its owner's keys (SPEC §2a)
    required_scopes = {"GET": "keys:read", "PATCH": "keys:write"}

    @extend_schema(responses={200: s.ApiKeyOutput})
    def get(self, request: Request, key_id: str) -> Response:
        _, api_key = _key(request, key_id)
        return Response(s.ApiKeyOutput(api_key).data)

    @extend_schema(request=s.ApiKeyUpdateInput, responses={200: s.ApiKeyOutput})
    def patch(self, request: Request, key_id: str) -> Response:
        actor, api_key = _key(request, key_id)
        body = s.ApiKeyUpdateInput(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        kwargs: dict[str, Any] = {
            k: data[k]
            for k in ("name", "scopes", "allowed_ips", "rate_limit", "metadata", "usage_limit", "usage_refill")
            if k in data
        }
        if "expires_at" in data:
            kwargs["expires_at"] = data["expires_at"]
        api_key = services.apikey_update(api_key=api_key, actor=actor, **kwargs)
        return Response(s.ApiKeyOutput(api_key).data)


class KeyRevokeView(KeyView):
    unbound_keys = "tenant"  # an unbound key reaches all of its owner's keys (SPEC §2a)
    required_scopes = {"POST": "keys:write"}
    admitted_during_outage = frozenset({"POST"})

    @extend_schema(request=None, responses={200: s.ApiKeyOutput})
    def post(self, request: Request, key_id: str) -> Response:
        NoBodyInput(data=request.data).is_valid(raise_exception=True)
        actor, api_key = _key(request, key_id)
        api_key = services.apikey_revoke(api_key=api_key, actor=actor)
        return Response(s.ApiKeyOutput(api_key).data)


class KeyDeactivateView(KeyView):
    unbound_keys = "tenant"  # an unbound key reaches all of its owner's keys (SPEC §2a)
    required_scopes = {"POST": "keys:write"}
    active = False
    admitted_during_outage = frozenset({"POST"})

    @extend_schema(request=None, responses={200: s.ApiKeyOutput})
    def post(self, request: Request, key_id: str) -> Response:
        NoBodyInput(data=request.data).is_valid(raise_exception=True)
        actor, api_key = _key(request, key_id)
        api_key = services.apikey_set_active(api_key=api_key, actor=actor, active=self.active)
        return Response(s.ApiKeyOutput(api_key).data)


class KeyActivateView(KeyDeactivateView):
    active = True
    admitted_during_outage: frozenset[str] = frozenset()  # giving access back waits


class KeyRotateView(KeyView):
    unbound_keys = "tenant"  # an unbound key reaches all of its owner's keys (SPEC §2a)
    required_scopes = {"POST": "keys:write"}

    @extend_schema(request=s.RotateInput, responses={200: s.RotatedKeyOutput})
    def post(self, request: Request, key_id: str) -> Response:
        actor, api_key = _key(request, key_id)
        body = s.RotateInput(data=request.data)
        body.is_valid(raise_exception=True)
        issued = services.apikey_rotate(
            api_key=api_key, actor=actor, grace_period_seconds=body.validated_data["grace_period_seconds"]
        )
        data = s.issued_key_data(issued.api_key, issued.key)
        data["previous_key_valid_until"] = issued.api_key.previous_secret_ends
        return Response(data)
