"""System checks of what the accounts app keeps in the database (run by ``manage.py check
--database default`` and by ``migrate``)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.database)
def stored_private_keys_check(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[Warning]:
    """A private key saved as a tenant's IdP signing certificate before the check refused one
    (docs/accounts.md): the IdP's secret, never the SP's to keep, until an operator clears it."""
    if not databases:
        return []
    from accounts.models import TenantSSOConfig

    try:
        tenants = list(
            TenantSSOConfig.objects.filter(idp_x509_cert__contains="PRIVATE KEY").values_list(
                "tenant__public_id", flat=True
            )[:5]
        )
    except DatabaseError:  # before the first migrate: nothing is stored yet
        return []
    if not tenants:
        return []
    return [
        Warning(
            "A private key is stored as the IdP signing certificate of tenant(s) "
            f"{', '.join(str(t) for t in tenants)}: it is the IdP's secret and must not be kept here.",
            hint="Run `manage.py clear_sso_private_keys` (audited; the owners then paste the certificate).",
            id="accounts.W001",
        )
    ]
