"""System checks for bad setting combinations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register


@register()
def key_prefixes_check(app_configs: Any, **kwargs: Any) -> list[Warning]:
    prefixes = list(settings.TATER_KEY_PREFIXES.values())
    problems = []
    if set(settings.TATER_KEY_PREFIXES) != {"standard", "agent", "public"}:
        problems.append(Warning("TATER_KEY_PREFIXES must name exactly standard, agent and public.", id="tater.W001"))
    for prefix in prefixes:
        for other in prefixes:
            if prefix != other and other.startswith(prefix):
                problems.append(Warning(f"Key prefix {prefix!r} is a prefix of {other!r}.", id="tater.W002"))
    return problems
