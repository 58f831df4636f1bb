"""Everything under /api/v1/."""

from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern, URLResolver, path

from tater.api.health import HealthView


def routes(*modules: str) -> list[URLPattern | URLResolver]:
    """The URL patterns of ``modules``, in order, as one list: what ``path("", include(m))``
    for each would route (none has a namespace), one resolver level less deep, so every
    /api/v1/ request is matched in two levels. Named by string, as ``include`` does: the core
    imports no app."""
    return [pattern for module in modules for pattern in import_module(module).urlpatterns]


urlpatterns = [
    path("health", HealthView.as_view(), name="api-health"),
    # apikeys first: its first route is auth/validate (the hottest key-authenticated path),
    # then the next hottest.
    *routes("apikeys.api.urls", "accounts.api.urls", "orgs.api.urls", "audit.api.urls"),
    *routes("scans.api.urls", "leaks.api.urls", "scim.api.urls"),
]
