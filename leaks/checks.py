"""System checks of the leaked-keys settings."""

from __future__ import annotations

import urllib.parse
from typing import Any

from django.core.checks import Error, Tags, register

from leaks import app_settings


@register(Tags.security, deploy=True)
def keys_url_check(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The keys that authenticate GitHub's alerts must come over TLS: whoever can change them
    in transit can have any key of any tenant revoked."""
    url = app_settings.keys_url()
    try:
        scheme = urllib.parse.urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme == "https":
        return []
    return [
        Error(
            f"TATER_GITHUB_SECRET_SCANNING_KEYS_URL is {url!r}: GitHub's signing keys must be fetched over https.",
            hint="Unset it (GitHub's own URL is the default) or give an https URL.",
            id="leaks.E001",
        )
    ]
