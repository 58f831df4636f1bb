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


@register(Tags.database)
def several_social_apps_check(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[Warning]:
    """Two visible applications of one sign-in provider (a second Google app added in the
    admin): allauth cannot choose, so that provider's sign-in fails until one is left."""
    if not databases:
        return []
    from allauth.socialaccount.models import SocialApp

    try:
        apps = list(SocialApp.objects.values("provider", "provider_id", "name", "settings"))
    except DatabaseError:
        return []
    by_provider: dict[str, list[str]] = {}
    for app in apps:
        if not (app["settings"] or {}).get("hidden"):
            by_provider.setdefault(app["provider_id"] or app["provider"], []).append(app["name"])
    return [
        Warning(
            f"{len(names)} visible {provider} sign-in applications are configured ({', '.join(sorted(names))}): "
            f"{provider} sign-in fails until one is left.",
            hint="Delete the extra ones in the admin (Social applications), or mark them hidden in their settings.",
            id="accounts.W002",
        )
        for provider, names in sorted(by_provider.items())
        if len(names) > 1
    ]
