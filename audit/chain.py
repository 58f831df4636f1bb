"""Tamper evidence: each tenant's entries form a hash chain (placeholder until the
audit issue lands the locked chain head; see issue 7)."""

from __future__ import annotations

from audit.models import AuditEvent


def link(event: AuditEvent) -> None:
    """Set ``seq``, ``prev_hash`` and ``entry_hash`` on a new, unsaved event."""
    return None
