"""What the services take: a User or a Group as the identity provider describes it, already
parsed and validated by the protocol layer (scim.protocol.resources)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UserDoc:
    user_name: str
    external_id: str = ""
    active: bool | None = None  # None: unassigned (the account stays as it is)
    name: dict[str, str] = field(default_factory=dict)
    display_name: str = ""
    emails: tuple[dict[str, Any], ...] = ()

    def attributes(self) -> dict[str, Any]:
        """What ``ScimUser.attributes`` keeps (empty parts left out)."""
        stored: dict[str, Any] = {}
        if self.name:
            stored["name"] = dict(self.name)
        if self.display_name:
            stored["displayName"] = self.display_name
        if self.emails:
            stored["emails"] = [dict(e) for e in self.emails]
        return stored


@dataclass(frozen=True)
class GroupDoc:
    display_name: str
    external_id: str = ""
    member_ids: tuple[str, ...] = ()  # ScimUser public ids, in the order given, no duplicates
