"""Settings of the scans app (read through getattr so deployments may override them)."""

from __future__ import annotations

from django.conf import settings


def max_upload_bytes() -> int:
    """Largest accepted upload body in bytes (``TATER_MAX_UPLOAD_BYTES``, default 5 MB);
    larger bodies get 413 PAYLOAD_TOO_LARGE. Read per request so tests can override it."""
    return int(getattr(settings, "TATER_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def max_findings() -> int:
    """Most findings one scan may carry (``TATER_SCAN_MAX_FINDINGS``, default 10,000)."""
    return int(getattr(settings, "TATER_SCAN_MAX_FINDINGS", 10_000))
