"""The audit app's settings, with their defaults."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings


def min_retention() -> timedelta:
    """``TATER_AUDIT_MIN_RETENTION_DAYS`` (default 365): ``purge_audit`` never deletes an entry
    younger than this. On PostgreSQL the database enforces it too (``tater_audit_min_retention()``,
    written from this setting by ``migrate`` and ``setup_db_roles --apply`` as the table owner),
    so the application's runtime role cannot lower it."""
    return timedelta(days=int(getattr(settings, "TATER_AUDIT_MIN_RETENTION_DAYS", 365)))
