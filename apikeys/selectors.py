"""Reads of API keys, always starting from the tenant or org."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apikeys.models import ApiKey, KeyStatus
from tater.api.access import Access
from tater.exceptions import ObjectNotFound


def _visible(access: Access) -> QuerySet[ApiKey]:
    """Keys of the caller's org (plus the tenant's unbound keys for tenant owners);
    members and viewers see only their own keys."""
    where = Q(organization_id=access.org.pk) if access.org else Q(pk__in=[])
    if access.is_tenant_owner:
        where |= Q(organization__isnull=True)
    keys = ApiKey.objects.filter(Q(tenant_id=access.tenant_pk) & where)
    if not access.manages_all_keys:
        keys = keys.filter(owner_id=access.user_id)
    return keys


def apikey_list(*, access: Access, filters: dict[str, Any]) -> QuerySet[ApiKey]:
    keys = _visible(access).select_related("owner", "organization")
    now = timezone.now()
    status = filters.get("status")
    if status == KeyStatus.REVOKED:
        keys = keys.filter(revoked_at__isnull=False)
    elif status == KeyStatus.EXPIRED:
        keys = keys.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif status == KeyStatus.INACTIVE:
        keys = keys.filter(revoked_at__isnull=True, is_active=False).exclude(expires_at__lte=now)
    elif status == KeyStatus.ACTIVE:
        keys = keys.filter(revoked_at__isnull=True, is_active=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if filters.get("type"):
        keys = keys.filter(type=filters["type"])
    if filters.get("binding") == "unbound":
        keys = keys.filter(organization__isnull=True)
    elif filters.get("binding") == "org":
        keys = keys.filter(organization__isnull=False)
    return keys.order_by("-created_at", "-id")


def apikey_get(*, access: Access, public_id: str) -> ApiKey:
    """The one access helper for keys: a key outside the caller's reach is a 404."""
    api_key = _visible(access).select_related("owner", "organization", "tenant").filter(public_id=public_id).first()
    if api_key is None:
        raise ObjectNotFound("API key not found")
    return api_key
