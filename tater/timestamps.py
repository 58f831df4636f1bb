"""How the API writes a moment: ISO 8601 in UTC with ``Z`` (``2024-01-01T00:00:00Z``, as
Tatry's document and DRF's date fields write it), one spelling in every answer."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    """``moment`` (aware) in UTC, ``Z`` for ``+00:00``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
