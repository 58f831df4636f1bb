from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def current_org(request: HttpRequest) -> dict[str, Any]:
    """The org switcher's state for templates (filled by orgs.views.resolve_ui_org)."""
    return {"current_org": getattr(request, "current_org", None)}
