"""What the API answers, as frozen dataclasses.

Each is built with ``from_json`` from the API's JSON; date-times become aware
``datetime`` objects. Every object keeps the JSON it was built from in ``raw`` (fields a
newer server adds are there before this client knows them). Objects that carry a key
secret never show it in their ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

from tater_client.errors import TaterError

JSON = dict[str, Any]
T = TypeVar("T")


def parse(build: Callable[[Any], T], data: Any) -> T:
    """``build(data)``; JSON that is not what Tater answers (another service behind
    ``TATER_URL``) is a :class:`TaterError` ``INVALID_RESPONSE``, like a non-JSON answer."""
    try:
        return build(data)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):  # Overflow: int(1e999)
        raise TaterError(
            "The answer is not Tater's JSON: is TATER_URL (base_url) the Tater server?", code="INVALID_RESPONSE"
        ) from None


def parse_datetime(value: Any) -> datetime | None:
    """An ISO 8601 date-time from the API (``...Z`` or ``...+00:00``) as an aware datetime."""
    if value is None or value == "":
        return None
    text = str(value)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"  # fromisoformat reads "Z" only from Python 3.11
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def _required_datetime(value: Any) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("a date-time was expected")
    return parsed


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value or []]


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class KeyUsage:
    """A usage-limited key's count: ``remaining`` of ``limit`` uses until ``resets_at``."""

    limit: int
    remaining: int
    refill: str | None
    """``daily``, ``monthly`` (00:00 UTC), or ``None``: the uses never come back."""
    resets_at: datetime | None

    @classmethod
    def from_json(cls, data: Any) -> KeyUsage | None:
        if not data:
            return None
        return cls(
            limit=int(data["limit"]),
            remaining=int(data["remaining"]),
            refill=_opt_str(data.get("refill") or None),
            resets_at=parse_datetime(data.get("resets_at")),
        )


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed and shown (never its secret)."""

    id: str
    name: str
    type: str
    """``standard``, ``agent`` or ``public``."""
    prefix: str
    """The display prefix, e.g. ``tater_3fd8``."""
    status: str
    """``active``, ``expired``, ``revoked`` or ``inactive``."""
    binding: str
    """``organization`` (org-scoped) or ``unbound`` (tenant-wide)."""
    organization_id: str | None
    tenant_id: str
    owner: str
    scopes: list[str]
    expires_at: datetime | None
    is_active: bool
    revoked_at: datetime | None
    last_used_at: datetime | None
    last_used_ip: str | None
    allowed_ips: list[str]
    rate_limit: str
    created_at: datetime | None
    updated_at: datetime | None
    raw: JSON = field(repr=False, compare=False)
    usage_limit: int | None = None
    """At most this many uses per refill period (``None``: unlimited)."""
    usage_refill: str = ""
    """``""`` (never), ``daily`` or ``monthly``."""
    usage: KeyUsage | None = None
    """The count now, for a usage-limited key."""
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": str(data["id"]),
            "name": str(data.get("name", "")),
            "type": str(data.get("type", "")),
            "prefix": str(data.get("prefix", "")),
            "status": str(data.get("status", "")),
            "binding": str(data.get("binding", "")),
            "organization_id": _opt_str(data.get("organization_id")),
            "tenant_id": str(data.get("tenant_id", "")),
            "owner": str(data.get("owner", "")),
            "scopes": _strings(data.get("scopes")),
            "expires_at": parse_datetime(data.get("expires_at")),
            "is_active": bool(data.get("is_active", False)),
            "revoked_at": parse_datetime(data.get("revoked_at")),
            "last_used_at": parse_datetime(data.get("last_used_at")),
            "last_used_ip": _opt_str(data.get("last_used_ip")),
            "allowed_ips": _strings(data.get("allowed_ips")),
            "rate_limit": str(data.get("rate_limit") or ""),
            "created_at": parse_datetime(data.get("created_at")),
            "updated_at": parse_datetime(data.get("updated_at")),
            "raw": dict(data),
            "usage_limit": None if data.get("usage_limit") is None else int(data["usage_limit"]),
            "usage_refill": str(data.get("usage_refill") or ""),
            "usage": KeyUsage.from_json(data.get("usage")),
            "metadata": dict(data.get("metadata") or {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApiKey:
        return cls(**cls._fields(data))


@dataclass(frozen=True, kw_only=True)
class IssuedKey(ApiKey):
    """A key just created or rotated, with its secret: **the only time it is shown**.
    Store ``key`` now; the server keeps only its digest. ``repr`` never shows it."""

    key: str = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    """The header(s) to send the key in, e.g. ``{"X-API-Key": "tater_..."}``."""
    notice: str = ""
    previous_key_valid_until: datetime | None = None
    """After a rotation: until when the previous secret keeps working (the grace period)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssuedKey:
        return cls(
            **cls._fields(data),
            key=str(data["key"]),
            headers={str(k): str(v) for k, v in (data.get("headers") or {}).items()},
            notice=str(data.get("notice", "")),
            previous_key_valid_until=parse_datetime(data.get("previous_key_valid_until")),
        )


@dataclass(frozen=True)
class UsageBucket:
    """One hour of a key's traffic: its requests, and how many of them were answered an error."""

    hour: datetime
    requests: int
    errors: int


@dataclass(frozen=True)
class UsageHistory:
    """``GET /keys/{id}/usage/``: a key's requests and errors per hour, oldest first, the
    current hour included (not the usage limit's count: that is ``ApiKey.usage``)."""

    key_id: str
    granularity: str
    start: datetime
    """The first bucket's hour (the JSON's ``from``)."""
    end: datetime
    """Where the last bucket ends, exclusive: its hour plus one (the JSON's ``to``)."""
    requests: int
    errors: int
    buckets: list[UsageBucket]
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageHistory:
        totals = data.get("totals") or {}
        return cls(
            key_id=str(data["key_id"]),
            granularity=str(data.get("granularity", "")),
            start=_required_datetime(data.get("from")),
            end=_required_datetime(data.get("to")),
            requests=int(totals.get("requests", 0)),
            errors=int(totals.get("errors", 0)),
            buckets=[
                UsageBucket(_required_datetime(b.get("hour")), int(b.get("requests", 0)), int(b.get("errors", 0)))
                for b in data.get("buckets") or []
            ],
            raw=dict(data),
        )


@dataclass(frozen=True)
class KeyPage:
    """One page of ``GET /keys/``: pass the last key's id as ``starting_after`` for the next
    (or an ``offset``, which a key created or revoked meanwhile shifts)."""

    keys: list[ApiKey]
    total: int
    limit: int
    offset: int
    raw: JSON = field(repr=False, compare=False)
    has_more: bool | None = None
    """More keys follow this page (``None``: the server did not say)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyPage:
        return cls(
            keys=[ApiKey.from_json(k) for k in data.get("keys", [])],
            total=int(data.get("total", 0)),
            limit=int(data.get("limit", 0)),
            offset=int(data.get("offset", 0)),
            raw=dict(data),
            has_more=None if data.get("has_more") is None else bool(data["has_more"]),
        )


@dataclass(frozen=True)
class KeyInfo:
    """``GET /auth/validate``: the presented key and what it may do right now."""

    valid: bool
    id: str
    type: str
    prefix: str
    name: str
    organization_id: str | None
    tenant_id: str
    binding: str
    scopes: list[str]
    """The scopes the key was created with."""
    permissions: list[str]
    """Effective permissions: the scopes ∩ the owner's current role, in the resolved org."""
    expires_at: datetime | None
    raw: JSON = field(repr=False, compare=False)
    metadata: dict[str, Any] = field(default_factory=dict)
    usage: KeyUsage | None = None
    """A usage-limited key's count after this request."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyInfo:
        return cls(
            valid=bool(data.get("valid", False)),
            id=str(data.get("id", "")),
            type=str(data.get("type", "")),
            prefix=str(data.get("prefix", "")),
            name=str(data.get("name", "")),
            organization_id=_opt_str(data.get("organization_id")),
            tenant_id=str(data.get("tenant_id", "")),
            binding=str(data.get("binding", "")),
            scopes=_strings(data.get("scopes")),
            permissions=_strings(data.get("permissions")),
            expires_at=parse_datetime(data.get("expires_at")),
            raw=dict(data),
            metadata=dict(data.get("metadata") or {}),
            usage=KeyUsage.from_json(data.get("usage")),
        )


@dataclass(frozen=True)
class Finding:
    """One finding of a scan."""

    title: str
    severity: str
    """``info``, ``low``, ``medium``, ``high`` or ``critical``."""
    description: str = ""
    host: str = ""
    port: int | None = None
    cve: str = ""
    remediation: str = ""
    references: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        port = data.get("port")
        return cls(
            title=str(data.get("title", "")),
            severity=str(data.get("severity", "")),
            description=str(data.get("description") or ""),
            host=str(data.get("host") or ""),
            port=None if port is None else int(port),
            cve=str(data.get("cve") or ""),
            remediation=str(data.get("remediation") or ""),
            references=_strings(data.get("references")),
            data=dict(data.get("data") or {}),
        )


@dataclass(frozen=True)
class Uploader:
    user: str | None
    """The uploading user's email."""
    key_id: str | None
    """The API key it was uploaded with, if any."""
    key_prefix: str | None = None
    """The display prefix of the secret presented (the old one during a rotation's grace)."""


@dataclass(frozen=True)
class Scan:
    """A scan. ``findings`` is filled by ``scans.get`` and ``scans.upload``; lists leave it ``None``."""

    id: str
    tenant_id: str
    organization_id: str
    scanner: str
    target: str
    started_at: datetime | None
    finished_at: datetime | None
    finding_count: int
    severity_counts: dict[str, int]
    uploaded_by: Uploader
    created_at: datetime | None
    findings: list[Finding] | None
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scan:
        uploader = data.get("uploaded_by") or {}
        findings = data.get("findings")
        return cls(
            id=str(data["id"]),
            tenant_id=str(data.get("tenant_id", "")),
            organization_id=str(data.get("organization_id", "")),
            scanner=str(data.get("scanner", "")),
            target=str(data.get("target", "")),
            started_at=parse_datetime(data.get("started_at")),
            finished_at=parse_datetime(data.get("finished_at")),
            finding_count=int(data.get("finding_count", 0)),
            severity_counts={str(k): int(v) for k, v in (data.get("severity_counts") or {}).items()},
            uploaded_by=Uploader(
                user=_opt_str(uploader.get("user")),
                key_id=_opt_str(uploader.get("key_id")),
                key_prefix=_opt_str(uploader.get("key_prefix")),
            ),
            created_at=parse_datetime(data.get("created_at")),
            findings=None if findings is None else [Finding.from_json(f) for f in findings],
            raw=dict(data),
        )


@dataclass(frozen=True)
class ScanPage:
    """One page of ``GET /scans/`` (offset paging, newest first)."""

    scans: list[Scan]
    total: int
    limit: int
    offset: int
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScanPage:
        return cls(
            scans=[Scan.from_json(s) for s in data.get("scans", [])],
            total=int(data.get("total", 0)),
            limit=int(data.get("limit", 0)),
            offset=int(data.get("offset", 0)),
            raw=dict(data),
        )


@dataclass(frozen=True)
class AuditActor:
    user_id: str | None
    """The acting user's id (``usr-...``); None for the system or a deleted user."""
    email: str


@dataclass(frozen=True)
class AuditTarget:
    type: str
    id: str | None
    """The target's public id (``key-...``, ``usr-...``); ``None`` for an object without one
    (a membership changed in the admin, a domain claim): ``type`` and ``display`` still say what."""
    display: str


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry."""

    id: str
    time: datetime
    channel: str
    """``ui``, ``api``, ``admin``, ``system`` or ``scim``."""
    action: str
    """Dotted action name, e.g. ``api_key.created``."""
    actor: AuditActor
    via: str
    """``api`` (an API key acted: ``key_id``), ``scim``, ``session`` or ``system``."""
    key_id: str | None
    target: AuditTarget | None
    organization_id: str | None
    tenant_id: str
    changes: Any
    """``{"field": {"from": old, "to": new}}`` or other details; never a secret."""
    ip: str | None
    user_agent: str
    request_id: str
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEntry:
        actor = data.get("actor") or {}
        target = data.get("target")
        user_id = actor.get("user_id")
        return cls(
            id=str(data["id"]),
            time=_required_datetime(data.get("time")),
            channel=str(data.get("channel", "")),
            action=str(data.get("action", "")),
            actor=AuditActor(user_id=None if user_id is None else str(user_id), email=str(actor.get("email") or "")),
            via=str(data.get("via", "")),
            key_id=_opt_str(data.get("key_id")),
            target=None
            if not target
            else AuditTarget(
                type=str(target.get("type", "")), id=_opt_str(target.get("id")), display=str(target.get("display", ""))
            ),
            organization_id=_opt_str(data.get("organization_id")),
            tenant_id=str(data.get("tenant_id", "")),
            changes=data.get("changes"),
            ip=_opt_str(data.get("ip")),
            user_agent=str(data.get("user_agent") or ""),
            request_id=str(data.get("request_id") or ""),
            raw=dict(data),
        )


@dataclass(frozen=True)
class AuditPage:
    """One page of ``GET /audit-log/`` (newest first); pass ``next_cursor`` for the next page."""

    entries: list[AuditEntry]
    next_cursor: str | None
    limit: int
    raw: JSON = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditPage:
        return cls(
            entries=[AuditEntry.from_json(e) for e in data.get("entries", [])],
            next_cursor=_opt_str(data.get("next_cursor")),
            limit=int(data.get("limit", 0)),
            raw=dict(data),
        )
