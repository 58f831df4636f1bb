"""Which tenant's log records a change to an account's link with an identity provider
(``user.sso_linked``, ``user.sso_unlinked``).

A tenant's IdP is the tenant's: linking or unlinking an identity of it (its issuer and the
subject it knows the person by) is filed under that tenant, as the people it provisions and
the sign-ins it was refused are, never under another tenant the person also belongs to (SPEC
§1, §7). An identity of a provider no tenant runs (Google, Microsoft) is the person's own: their
home tenant's (``services.home_tenant``), as their other account events."""

from __future__ import annotations

from typing import Any

from accounts import services
from accounts.models import TenantSSOConfig
from orgs.models import Tenant


def identity_tenant(user: Any, provider_id: str) -> Tenant | None:
    """The tenant whose IdP ``provider_id`` names (its configuration switched on or not), else
    the person's home tenant."""
    config = TenantSSOConfig.objects.select_related("tenant").filter(provider_id=provider_id).first()
    return config.tenant if config is not None else services.home_tenant(user)
