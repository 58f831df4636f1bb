"""The seed systems' own paths (SPEC §5a), one module each (included at the root)."""

from __future__ import annotations

from django.urls import URLPattern, include, path, re_path

from surfaces.envelope import Envelope, UnknownPathView
from surfaces.taapit import TaapitEnvelope
from surfaces.taffy import TaffyEnvelope
from surfaces.tatry import TatryEnvelope


def misses(prefix: str, envelope: Envelope) -> URLPattern:
    """Any other path under a system's own prefix: a 404 in that system's shape (SPEC §3:
    "unknown paths ... in that system's error format"). Marked ``no_route`` like tater.urls'
    /api/ catch-all: still a miss, so the path's other form (trailing slash) is tried first
    (TrailingSlashMiddleware) and metrics count it unmatched."""

    # A class of its own (not an as_view argument): the middleware's refusals before any view
    # runs (a body over the limit, ...) read the envelope from the class (in_route_format).
    class Miss(UnknownPathView):
        pass

    Miss.envelope = envelope
    view = Miss.as_view()
    view.__dict__["no_route"] = True
    # The prefix itself too: were only ``prefix/`` a route, Django's APPEND_SLASH would take
    # ``prefix`` for its slash-less form (an HTML 301; a POST's RuntimeError, 500, with DEBUG).
    return re_path(rf"^{prefix}(?:/|$)", view)


urlpatterns = [
    path("", include("surfaces.tatry")),
    path("", include("surfaces.taapit")),
    path("", include("surfaces.tigertrust")),
    path("", include("surfaces.taffy")),
    # After every system's paths. TigerTrust's /api/auth/ is under /api/, whose misses answer
    # in the catalog's shape, TigerTrust's own; /v1/ itself is shared by Tatry and taap.it.
    misses("v1/auth", TatryEnvelope()),
    misses("v1/workspaces", TaapitEnvelope()),
    misses("auth", TaffyEnvelope()),
]
