"""SCIM tokens: a tenant owner issues and revokes the tokens its identity provider uses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import registry as A
from audit.services import audit_record
from orgs import policy
from orgs.models import Tenant
from orgs.selectors import as_actor
from scim import tokens
from scim.models import ScimToken
from scim.services import directory
from tater.names import clean_name


@dataclass(frozen=True)
class IssuedToken:
    token: ScimToken
    secret: str  # shown once, never stored


def require_token_manager(who: policy.Actor, *, issuing: bool) -> None:
    policy.require(policy.can_manage_scim_tokens(who, issuing=issuing))


@transaction.atomic
def scim_token_create(*, tenant: Tenant, name: str, actor: Any) -> IssuedToken:
    """A new SCIM token for ``tenant``; its secret is returned here only. The first one seeds
    the tenant's directory from its members (scim.services.directory)."""
    who = as_actor(actor, tenant)
    require_token_manager(who, issuing=True)
    # Shown in the settings page, the Activity Log and the leak alert: one line that reads as written.
    name = clean_name(name, what="Token name")
    # The tenant row first: two first tokens at once would both seed the directory. FOR NO KEY
    # UPDATE, as the membership services take it: FOR UPDATE also blocked every insert that
    # references the tenant, made by a change holding the audit chain this token then needs.
    tenant = Tenant.objects.select_for_update(no_key=True).get(pk=tenant.pk)
    first = not directory.has_directory(tenant)
    secret = tokens.generate()
    token = ScimToken.objects.create(
        tenant=tenant, name=name, digest=secret.digest, display_prefix=secret.display_prefix, created_by=who.user
    )
    audit_record(
        action=A.SCIM_TOKEN_CREATED,
        tenant=tenant,
        target=token,
        changes={"name": {"to": name}, "prefix": {"to": secret.display_prefix}},
        actor_user=who.user,
    )
    if first:
        directory.directory_seed(tenant=tenant, actor=who.user)
    return IssuedToken(token=token, secret=secret.token)


@transaction.atomic
def scim_token_revoke(
    *, token: ScimToken, actor: Any, reason: str = "", details: dict[str, Any] | None = None
) -> ScimToken:
    """Revoke a token: its next request is refused (401). ``reason`` (e.g. ``leaked``) and
    ``details`` (e.g. where it was found) go into the audit entry."""
    who = as_actor(actor, token.tenant_id)
    require_token_manager(who, issuing=False)
    locked = ScimToken.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        changes: dict[str, Any] = {"revoked_at": {"to": locked.revoked_at}}
        if reason:
            changes["reason"] = reason
        changes.update(details or {})
        audit_record(
            action=A.SCIM_TOKEN_REVOKED, tenant=locked.tenant, target=locked, changes=changes, actor_user=who.user
        )
    return locked
