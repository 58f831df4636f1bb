"""``GET /me``'s answer: who the key acts for (frozen dataclasses, as in :mod:`tater_client.models`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tater_client.models import JSON


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class MeUser:
    """The account the key belongs to."""

    id: str
    """``usr-<uuid>`` (the id the member calls and audit filters take)."""
    email: str
    name: str
    is_staff: bool


@dataclass(frozen=True)
class MeTenant:
    """A tenant the caller sees (a key: only its own), with the user's tenant role."""

    id: str
    name: str
    plan: str
    role: str | None
    """``owner`` or ``admin``; ``None``: no tenant role (an org member only)."""
    require_2fa: bool
    require_sso: bool


@dataclass(frozen=True)
class MeOrganization:
    """An organization the caller reaches (an org-bound key: only its own)."""

    id: str
    name: str
    tenant_id: str
    role: str | None
    """The user's role in the org (``admin``, ``member``, ``viewer``), ``None`` when they
    reach it by their tenant role only."""
    tenant_role: str | None


@dataclass(frozen=True)
class OrgRef:
    id: str
    name: str


@dataclass(frozen=True)
class Me:
    """``GET /me``: the user a key acts for, the tenant and orgs it sees with the user's roles
    there, the org it acts in and its effective permissions."""

    user: MeUser
    authentication: str
    """How the caller authenticated: ``api_key`` through this client."""
    two_factor_enabled: bool
    tenants: list[MeTenant]
    organizations: list[MeOrganization]
    current_organization: OrgRef | None
    """The org calls act in (``None``: an unbound key given no org hint)."""
    permissions: list[str]
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Me:
        user = data["user"]
        current = data.get("current_organization")
        return cls(
            user=MeUser(
                id=str(user["id"]),
                email=str(user.get("email", "")),
                name=str(user.get("name") or ""),
                is_staff=bool(user.get("is_staff")),
            ),
            authentication=str(data.get("authentication", "")),
            two_factor_enabled=bool((data.get("two_factor") or {}).get("enabled")),
            tenants=[
                MeTenant(
                    id=str(t["id"]),
                    name=str(t.get("name", "")),
                    plan=str(t.get("plan", "")),
                    role=_opt_str(t.get("role")),
                    require_2fa=bool(t.get("require_2fa")),
                    require_sso=bool(t.get("require_sso")),
                )
                for t in data.get("tenants") or []
            ],
            organizations=[
                MeOrganization(
                    id=str(o["id"]),
                    name=str(o.get("name", "")),
                    tenant_id=str(o.get("tenant_id", "")),
                    role=_opt_str(o.get("role")),
                    tenant_role=_opt_str(o.get("tenant_role")),
                )
                for o in data.get("organizations") or []
            ],
            current_organization=OrgRef(id=str(current["id"]), name=str(current.get("name", ""))) if current else None,
            permissions=[str(p) for p in data.get("permissions") or []],
            raw=dict(data),
        )
