"""Reads of API keys, always starting from the tenant, and only within the caller's
reach as the policy states it (orgs.policy.key_reach)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apikeys.models import ApiKey, KeyStatus
from orgs import policy
from orgs.access import Access
from orgs.selectors import actor_for_access
from tater import scopes as S
from tater.exceptions import InvalidInput, ObjectNotFound


def _reachable(reach: policy.KeyReach) -> QuerySet[ApiKey]:
    """The policy's reach as a query: tenant, owner, orgs, unbound keys, and (for a
    narrow calling key) only keys whose scopes lie within its permissions."""
    keys = ApiKey.objects.filter(tenant_id=reach.tenant_pk)
    if reach.owner_pk is not None:
        keys = keys.filter(owner_id=reach.owner_pk)
    where = Q(organization__isnull=True) if reach.unbound else Q(pk__in=[])
    if reach.org_pks is None:
        where |= Q(organization__isnull=False)
    elif reach.org_pks:
        where |= Q(organization_id__in=reach.org_pks)
    keys = keys.filter(where)
    if reach.max_permissions is not None:
        # Scope specs are JSON lists: compared here, over one owner's keys in one org.
        within = [pk for pk, specs in keys.values_list("pk", "scopes") if S.expand(specs) <= reach.max_permissions]
        keys = keys.filter(pk__in=within)
    return keys


@dataclass(frozen=True)
class _UserRef:
    pk: int
    is_active: bool = True


def actor_of(access: Access, user: Any = None) -> policy.Actor:
    """The policy's Actor for a request's resolved Access (user: the request's user)."""
    return actor_for_access(access, user if user is not None else _UserRef(access.user_id))


def _visible(access: Access, actor: policy.Actor | None) -> QuerySet[ApiKey]:
    actor = actor or actor_of(access)
    return _reachable(policy.key_reach(actor, org_pk=access.org.pk if access.org else None))


def apikey_list(*, access: Access, filters: dict[str, Any], actor: policy.Actor | None = None) -> QuerySet[ApiKey]:
    actor = actor or actor_of(access)
    keys = _visible(access, actor).select_related("owner", "organization", "tenant")
    cred = actor.credential
    if cred is not None and cred.org_pk is None and access.org is not None:
        # SPEC §4: an unbound key's hint picks the org it lists (with its owner's unbound
        # keys, as the owner's session sees that org); by id it still reaches every org.
        keys = keys.filter(Q(organization__isnull=True) | Q(organization_id=access.org.pk))
    now = timezone.now()
    status = filters.get("status")
    if status == KeyStatus.REVOKED:
        keys = keys.filter(revoked_at__isnull=False)
    elif status == KeyStatus.EXPIRED:
        keys = keys.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif status == KeyStatus.INACTIVE:
        keys = keys.filter(revoked_at__isnull=True, is_active=False).exclude(expires_at__lte=now)
    elif status == KeyStatus.ACTIVE:
        keys = keys.filter(revoked_at__isnull=True, is_active=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
    if filters.get("type"):
        keys = keys.filter(type=filters["type"])
    if filters.get("binding") == "unbound":
        keys = keys.filter(organization__isnull=True)
    elif filters.get("binding") == "org":
        keys = keys.filter(organization__isnull=False)
    return keys.order_by("-created_at", "-id")


def apikey_list_after(
    keys: QuerySet[ApiKey], *, access: Access, actor: policy.Actor, public_id: str
) -> QuerySet[ApiKey]:
    """``keys`` (ordered newest first, then by id) after the key ``public_id``: Stripe's
    ``starting_after``. The key need not match the list's filters any more (revoked since),
    but must be one the caller lists: any other id is a 400, so it tells nothing of others."""
    anchor = apikey_list(access=access, filters={}, actor=actor).filter(public_id=public_id)
    found = anchor.values_list("created_at", "pk").first()
    if found is None:
        raise InvalidInput("Not a key of this list", field="starting_after")
    created_at, pk = found
    return keys.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=pk))


def apikey_get(*, access: Access, public_id: str, actor: policy.Actor | None = None) -> ApiKey:
    """The one access helper for keys: a key outside the caller's reach is a 404."""
    api_key = (
        _visible(access, actor).select_related("owner", "organization", "tenant").filter(public_id=public_id).first()
    )
    if api_key is None:
        raise ObjectNotFound("API key not found")
    return api_key
