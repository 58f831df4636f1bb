"""Everything under /api/v1/: ``urlpatterns`` relative to it, ``under(prefix)`` the same
patterns with the prefix in their routes (how tater.urls mounts them)."""

from __future__ import annotations

from importlib import import_module

from django.urls import URLPattern, URLResolver, path
from django.urls.resolvers import RoutePattern

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


def under(prefix: str) -> list[URLPattern]:
    """:data:`urlpatterns` with ``prefix`` written into each route, for the root URLconf:
    what ``path(prefix, include(...))`` would route (same names, same ``route`` on the
    match), matched in one resolver level instead of two. Every /api/v1/ request pays for
    each level: about 0.05× of the validate path's ratio in bench/ (measured, one run).
    Every pattern here is a ``path()`` route (an include or a regex would need its own
    case: refused at start-up)."""
    mounted = []
    for pattern in urlpatterns:
        if not isinstance(pattern, URLPattern) or not isinstance(pattern.pattern, RoutePattern):
            raise TypeError(f"/api/v1/ routes are path() patterns, not {pattern!r}")
        route, view, kwargs = prefix + str(pattern.pattern), pattern.callback, pattern.default_args
        mounted.append(path(route, view, kwargs) if pattern.name is None else path(route, view, kwargs, pattern.name))
    return mounted
