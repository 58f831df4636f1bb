"""What the SCIM services share: the error a directory change is refused with, If-Match,
and the before/after diff of an audit entry."""

from __future__ import annotations

from typing import Any

from tater.exceptions import DomainError


class DirectoryError(DomainError):
    """A SCIM change the directory refuses, with RFC 7644's ``scimType``."""

    def __init__(self, message: str, *, status: int = 400, scim_type: str | None = "invalidValue") -> None:
        super().__init__(message)
        self.status_code = status
        self.code = "CONFLICT" if status == 409 else "VALIDATION_ERROR"
        self.scim_type = scim_type


def taken(what: str) -> DirectoryError:
    return DirectoryError(what, status=409, scim_type="uniqueness")


def require_version(current: int, if_match: frozenset[int] | None) -> None:
    """If-Match (RFC 7644 §3.14): the change applies only to the version the client saw."""
    if if_match is not None and current not in if_match:
        raise DirectoryError("The resource has changed since it was read (If-Match)", status=412, scim_type=None)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
