"""One core, thin surfaces: each seed system is a module of its own (paths, envelope,
error mapping) over the core's views; the core never knows about them."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, resolve

from surfaces.envelope import Envelope, SurfaceView
from tater.api.views import TaterAPIView

SURFACES = ["tatry", "tigertrust", "taffy", "taapit"]
CORE_APPS = ["tater", "accounts", "apikeys", "orgs", "audit", "scans", "scim", "leaks"]


@pytest.mark.parametrize("name", SURFACES)
def test_each_surface_is_a_module_of_paths_and_views_over_core_views(name):
    module = importlib.import_module(f"surfaces.{name}")
    assert module.urlpatterns and all(isinstance(p, URLPattern) for p in module.urlpatterns)
    for pattern in module.urlpatterns:
        view = getattr(pattern.callback, "view_class", None)
        if view is None:
            continue  # a plain redirect view (TigerTrust's Google sign-in)
        assert issubclass(view, SurfaceView) and issubclass(view, TaterAPIView), view
        assert isinstance(view.envelope, Envelope) and view.schema is None
        # The view's behaviour is a core view's: the surface class comes straight before it.
        core = view.__mro__[view.__mro__.index(SurfaceView) + 1]
        assert core.__module__.split(".")[0] in CORE_APPS, (view, core)
        # Every path resolves to it, with and without the trailing slash (middleware).
        assert resolve("/" + str(pattern.pattern)).func.view_class is view


def test_the_core_never_imports_the_surfaces():
    offenders = []
    for app in CORE_APPS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                )
                offenders += [f"{path}: {n}" for n in names if n == "surfaces" or n.startswith("surfaces.")]
    assert not offenders
