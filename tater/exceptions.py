"""Domain errors raised by services; the API, the UI and the commands each present them.

They carry a catalog code (SPEC §3) so the API answers with the right status and body,
the UI shows the message on the form, and a command prints it and exits 1.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "VALIDATION_ERROR"
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = dict(details or {})
        if field:
            self.details.setdefault("fields", {field: [message]})


class InvalidInput(DomainError):
    code = "VALIDATION_ERROR"
    status_code = 400


class HoldsSecret(InvalidInput):
    """A value refused because it holds a live secret (an API key, a SCIM token): never shown
    back, not even on the form of whoever typed it (SPEC §2: never in error bodies)."""


class NotPermitted(DomainError):
    code = "PERMISSION_DENIED"
    status_code = 403


class ObjectNotFound(DomainError):
    code = "NOT_FOUND"
    status_code = 404


class Conflict(DomainError):
    code = "CONFLICT"
    status_code = 409
