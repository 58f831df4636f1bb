"""What the SCIM services share: the error a directory change is refused with, If-Match,
and the before/after diff of an audit entry."""

from __future__ import annotations

import json
from typing import Any, Literal

from tater.exceptions import DomainError
from tater.secret_detectors import holds_secret


class DirectoryError(DomainError):
    """A SCIM change the directory refuses, with RFC 7644's ``scimType``."""

    def __init__(self, message: str, *, status: int = 400, scim_type: str | None = "invalidValue") -> None:
        super().__init__(message)
        self.status_code = status
        self.code = "CONFLICT" if status == 409 else "VALIDATION_ERROR"
        self.scim_type = scim_type


def taken(what: str) -> DirectoryError:
    return DirectoryError(what, status=409, scim_type="uniqueness")


# An If-Match / If-None-Match header: the versions it names, "*" (any) or None (absent).
Versions = frozenset[int] | Literal["*"] | None


def require_version(current: int, if_match: Versions, if_none_match: Versions = None) -> None:
    """If-Match and If-None-Match (RFC 7644 §3.14, RFC 7232 §3.1-3.2): the change applies
    only to the version the client saw, and never to one it says it must not be (``*``: the
    resource exists, so a write with ``If-None-Match: *`` is refused)."""
    if isinstance(if_match, frozenset) and current not in if_match:
        raise DirectoryError("The resource has changed since it was read (If-Match)", status=412, scim_type=None)
    if if_none_match == "*" or (isinstance(if_none_match, frozenset) and current in if_none_match):
        raise DirectoryError("The resource matches If-None-Match", status=412, scim_type=None)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {"from": before.get(key), "to": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def refuse_secrets(before: dict[str, Any], after: dict[str, Any]) -> None:
    """A 400 ``invalidValue`` if an attribute ``after`` changes holds a live API key or SCIM
    token: the change goes into an audit entry the tenant's owners read (SPEC §2: never a key).
    Never echoed; a value stored before and left as it is stays."""
    for name, value in after.items():
        if value != before.get(name) and holds_secret(json.dumps(value, ensure_ascii=False)):
            raise DirectoryError(f"{name} holds an API key or SCIM token: directory changes are kept in the audit log")
