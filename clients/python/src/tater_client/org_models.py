"""Organizations, their members and the tenant's SCIM tokens, as the API answers them (frozen
dataclasses, as in :mod:`tater_client.models`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tater_client.models import JSON, parse_datetime


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Organization:
    """An organization (workspace) of a tenant."""

    id: str
    """``org-<uuid>``."""
    name: str
    slug: str
    tenant_id: str
    tenant_name: str
    created_at: datetime | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Organization:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", "")),
            slug=str(data.get("slug", "")),
            tenant_id=str(data.get("tenant_id", "")),
            tenant_name=str(data.get("tenant_name", "")),
            created_at=parse_datetime(data.get("created_at")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class OrganizationPage:
    """One page of ``GET /organizations/`` (``limit``/``offset``; by tenant name, then name)."""

    organizations: list[Organization]
    total: int
    limit: int
    offset: int
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrganizationPage:
        orgs = [Organization.from_json(o) for o in data["organizations"]]
        return cls(
            organizations=orgs,
            total=int(data.get("total", len(orgs))),
            limit=int(data.get("limit", len(orgs))),
            offset=int(data.get("offset", 0)),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Member:
    """Someone who reaches the organization: a member, or a tenant owner/admin."""

    user_id: str
    """``usr-<uuid>``: the id ``members.get``/``update``/``remove`` take."""
    email: str
    role: str | None
    """The role in this organization (``admin``, ``member``, ``viewer``), ``None`` if none."""
    tenant_role: str | None
    """``owner`` or ``admin`` of the whole tenant (every org), ``None`` if none."""
    effective_role: str
    """The role that applies here: the tenant role if any, else the org role."""
    joined_at: datetime | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Member:
        return cls(
            user_id=str(data["user_id"]),
            email=str(data.get("email", "")),
            role=_opt_str(data.get("role")),
            tenant_role=_opt_str(data.get("tenant_role")),
            effective_role=str(data.get("effective_role") or ""),
            joined_at=parse_datetime(data.get("joined_at")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class Invitation:
    """An invitation emailed to an address with no account (single use, expiring)."""

    id: str
    email: str
    role: str
    invited_by: str | None
    created_at: datetime | None
    expires_at: datetime | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Invitation:
        return cls(
            id=str(data["id"]),
            email=str(data.get("email", "")),
            role=str(data.get("role", "")),
            invited_by=_opt_str(data.get("invited_by")),
            created_at=parse_datetime(data.get("created_at")),
            expires_at=parse_datetime(data.get("expires_at")),
            raw=dict(data),
        )


@dataclass(frozen=True)
class MemberPage:
    """One page of ``GET /organizations/{id}/members/`` (by email; ``limit``/``offset``).

    With ``members:write`` the same ``limit``/``offset`` also pages the pending invitations
    (newest first) and those on hold (their sender can no longer grant them); without it
    both lists are empty and their totals 0."""

    members: list[Member]
    total: int
    limit: int
    offset: int
    pending_invitations: list[Invitation]
    pending_invitations_total: int
    held_invitations: list[Invitation]
    held_invitations_total: int
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberPage:
        return cls(
            members=[Member.from_json(m) for m in data["members"]],
            total=int(data.get("total", 0)),
            limit=int(data.get("limit", 0)),
            offset=int(data.get("offset", 0)),
            pending_invitations=[Invitation.from_json(i) for i in data.get("pending_invitations") or []],
            pending_invitations_total=int(data.get("pending_invitations_total") or 0),
            held_invitations=[Invitation.from_json(i) for i in data.get("held_invitations") or []],
            held_invitations_total=int(data.get("held_invitations_total") or 0),
            raw=dict(data),
        )


@dataclass(frozen=True)
class MemberAdded:
    """``POST /organizations/{id}/members/``: ``result`` is ``added`` (an existing user with
    that verified address: ``member``) or ``invited`` (an invitation emailed: ``invitation``)."""

    result: str
    member: Member | None
    invitation: Invitation | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MemberAdded:
        member, invitation = data.get("member"), data.get("invitation")
        return cls(
            result=str(data["result"]),
            member=None if member is None else Member.from_json(member),
            invitation=None if invitation is None else Invitation.from_json(invitation),
            raw=dict(data),
        )


@dataclass(frozen=True, kw_only=True)
class ScimToken:
    """A tenant's SCIM token (``scim_…``), which its identity provider uses at ``/scim/v2``:
    its secret is never listed, only its first characters (``prefix``)."""

    id: str
    """``scimtoken-<uuid>``: the id ``scim_tokens.revoke`` takes."""
    name: str
    prefix: str
    status: str
    """``active`` or ``revoked``."""
    tenant_id: str
    created_by: str | None
    """The email of the owner who created it (``None``: an operator's ``manage.py`` command)."""
    created_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    raw: JSON = field(repr=False, compare=False)

    @staticmethod
    def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": str(data["id"]),
            "name": str(data.get("name", "")),
            "prefix": str(data.get("prefix", "")),
            "status": str(data.get("status", "")),
            "tenant_id": str(data.get("tenant_id", "")),
            "created_by": _opt_str(data.get("created_by")),
            "created_at": parse_datetime(data.get("created_at")),
            "last_used_at": parse_datetime(data.get("last_used_at")),
            "revoked_at": parse_datetime(data.get("revoked_at")),
            "raw": dict(data),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScimToken:
        return cls(**cls._fields(data))


@dataclass(frozen=True)
class ScimTokenPage:
    """One page of ``GET /scim-tokens/`` (``limit``/``offset``; newest first)."""

    tokens: list[ScimToken]
    total: int
    limit: int
    offset: int
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScimTokenPage:
        tokens = [ScimToken.from_json(t) for t in data["tokens"]]
        return cls(
            tokens=tokens,
            total=int(data.get("total", len(tokens))),
            limit=int(data.get("limit", len(tokens))),
            offset=int(data.get("offset", 0)),
            raw=dict(data),
        )
