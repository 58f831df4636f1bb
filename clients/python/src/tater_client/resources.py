"""The API's resources: ``tater.keys``, ``tater.scans`` (``tater.audit``: :mod:`tater_client.audit`)."""

from __future__ import annotations

import builtins
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import quote

from tater_client.audit import AuditFilters, AuditLogAPI
from tater_client.errors import TaterError
from tater_client.models import ApiKey, IssuedKey, KeyPage, Scan, ScanPage, UsageHistory, parse
from tater_client.params import SECRET_NOT_SENT, ParamValue, Requester, TimeLike, iso, looks_like_secret

__all__ = ["UNSET", "AuditFilters", "AuditLogAPI", "KeysAPI", "ScansAPI", "TimeLike"]
KeyStatus = Literal["active", "expired", "revoked", "inactive"]
KeyType = Literal["standard", "agent", "public"]
KeyBinding = Literal["organization", "org", "unbound"]
"""``organization`` (as a key's ``binding`` reads; ``org`` for short) or ``unbound``."""


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks a field :meth:`KeysAPI.update` leaves as it is (``None`` clears the expiry)."""


def _segment(object_id: str) -> str:
    """An id as one path segment: ``/``, ``?``, ``#`` and dot segments in an id taken from
    untrusted input would otherwise turn ``POST keys/{id}/rotate/`` into another call."""
    text = str(object_id)
    if text in ("", ".", ".."):
        raise ValueError(f"not an id: {text!r}")
    if looks_like_secret(text):  # never repeated: the message is printed, logged
        raise ValueError(f"The id given {SECRET_NOT_SENT}")
    return quote(text, safe="")


def _check_progress(ids: set[str], seen: set[str]) -> None:
    """Offset paging: a page of ids all seen before means the server ignores ``offset`` (or a
    proxy drops it); going on would list the first page again as if it were the next."""
    if ids and ids <= seen:
        raise TaterError(
            "The server answered a page already read: it ignores the paging (offset, starting_after)",
            code="INVALID_RESPONSE",
        )
    seen |= ids


def _json_time(value: TimeLike | None) -> str | None:
    return iso(value) if isinstance(value, date) else value


class KeysAPI:
    """API keys (``/keys/``): what the calling key may see and act on (SPEC §2a)."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(
        self,
        *,
        status: KeyStatus | None = None,
        type: KeyType | None = None,
        binding: KeyBinding | None = None,
        limit: int | None = None,
        offset: int | None = None,
        organization_id: str | None = None,
        starting_after: str | None = None,
    ) -> KeyPage:
        """One page of keys (``limit`` 1–200, default 50), newest first. ``starting_after``
        (the last key id of the previous page) continues after that key whatever was created
        or revoked meanwhile; the page's ``has_more`` says whether another follows."""
        params: dict[str, ParamValue] = {
            "status": status,
            "type": type,
            "binding": binding,
            "limit": limit,
            "offset": offset,
            "starting_after": starting_after,
        }
        if organization_id is not None:
            params["organizationId"] = organization_id
        return parse(KeyPage.from_json, self._client.request("GET", "/keys/", params=params))

    def iter(
        self,
        *,
        status: KeyStatus | None = None,
        type: KeyType | None = None,
        binding: KeyBinding | None = None,
        page_size: int = 200,
        organization_id: str | None = None,
    ) -> Iterator[ApiKey]:
        """Every matching key, fetched page by page as the iteration goes. Each page starts
        after the last key of the one before (``starting_after``), so keys revoked, changed or
        created meanwhile (revoking as you go) neither hide others nor show one twice."""
        after: str | None = None
        count, seen = 0, set[str]()
        while True:
            page = self.list(
                status=status,
                type=type,
                binding=binding,
                limit=page_size,
                starting_after=after,
                organization_id=organization_id,
            )
            _check_progress({key.id for key in page.keys}, seen)
            yield from page.keys
            count += len(page.keys)
            more = page.has_more if page.has_more is not None else count < page.total
            if not page.keys or not more:
                return
            after = page.keys[-1].id

    def get(self, key_id: str) -> ApiKey:
        return parse(ApiKey.from_json, self._client.request("GET", f"/keys/{_segment(key_id)}/"))

    def usage_history(self, key_id: str, *, hours: int | None = None, days: int | None = None) -> UsageHistory:
        """``GET /keys/{id}/usage/``: the key's requests and errors per hour over the last
        ``hours`` (1-2160, default 24) or ``days`` (1-90), oldest first."""
        params: dict[str, ParamValue] = {"hours": hours, "days": days}
        path = f"/keys/{_segment(key_id)}/usage/"
        return parse(UsageHistory.from_json, self._client.request("GET", path, params=params))

    def create(
        self,
        name: str,
        *,
        type: KeyType | None = None,
        scopes: Sequence[str] | None = None,
        expires_at: TimeLike | None = None,
        allowed_ips: Sequence[str] | None = None,
        rate_limit: str | None = None,
        unbound: bool | None = None,
        usage_limit: int | None = None,
        usage_refill: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> IssuedKey:
        """Create a key. The result's ``key`` is the secret, **shown this once only**.

        Without ``scopes`` the key gets the caller's own effective permissions; ``scopes``
        may be ``["*"]``, ``["*:read"]`` or ``resource:action`` items (``"scans:write"``).
        An ``agent`` key carries ``["scans:write"]`` only (also without ``scopes``); a
        ``public`` key ``scans:read``/``organizations:read`` (or ``["*:read"]``); the server
        answers any other scope for them with 400 ``VALIDATION_ERROR`` naming it.
        ``rate_limit`` is a stricter per-key limit such as ``"5/min"`` or ``"100/hour"``;
        ``usage_limit`` caps its uses (1 to 2,000,000,000), refilled per ``usage_refill``
        (``"daily"``, ``"monthly"``; default never): then 429 ``USAGE_EXHAUSTED``.
        ``metadata``: a JSON object of at most 4 KB, returned by validate (never a secret).
        """
        body: dict[str, Any] = {"name": name}
        optional: dict[str, Any] = {
            "type": type,
            "scopes": None if scopes is None else builtins.list(scopes),
            "expires_at": _json_time(expires_at),
            "allowed_ips": None if allowed_ips is None else builtins.list(allowed_ips),
            "rate_limit": rate_limit,
            "unbound": unbound,
            "usage_limit": usage_limit,
            "usage_refill": usage_refill,
            "metadata": None if metadata is None else dict(metadata),
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        return parse(IssuedKey.from_json, self._client.request("POST", "/keys/", json=body))

    def update(
        self,
        key_id: str,
        *,
        name: str | _Unset = UNSET,
        scopes: Sequence[str] | _Unset = UNSET,
        expires_at: TimeLike | None | _Unset = UNSET,
        allowed_ips: Sequence[str] | _Unset = UNSET,
        rate_limit: str | _Unset = UNSET,
        usage_limit: int | None | _Unset = UNSET,
        usage_refill: str | _Unset = UNSET,
        metadata: Mapping[str, Any] | None | _Unset = UNSET,
    ) -> ApiKey:
        """``PATCH /keys/{id}/``: change only the fields given. Through an API key,
        restrictions may only tighten (fewer scopes, an earlier expiry, a lower usage limit,
        ...). ``usage_limit=None`` removes the limit, ``metadata=None`` clears it."""
        body: dict[str, Any] = {}
        if not isinstance(name, _Unset):
            body["name"] = name
        if not isinstance(scopes, _Unset):
            body["scopes"] = builtins.list(scopes)
        if not isinstance(expires_at, _Unset):
            body["expires_at"] = _json_time(expires_at)
        if not isinstance(allowed_ips, _Unset):
            body["allowed_ips"] = builtins.list(allowed_ips)
        if not isinstance(rate_limit, _Unset):
            body["rate_limit"] = rate_limit
        if not isinstance(usage_limit, _Unset):
            body["usage_limit"] = usage_limit
        if not isinstance(usage_refill, _Unset):
            body["usage_refill"] = usage_refill
        if not isinstance(metadata, _Unset):
            body["metadata"] = None if metadata is None else dict(metadata)
        return parse(ApiKey.from_json, self._client.request("PATCH", f"/keys/{_segment(key_id)}/", json=body))

    def rotate(self, key_id: str, *, grace_period_seconds: int | None = None) -> IssuedKey:
        """A new secret for the same key (its owner only). The old secret keeps working for
        ``grace_period_seconds`` (0 to 604800; the server's default is 86400)."""
        body = {} if grace_period_seconds is None else {"grace_period_seconds": grace_period_seconds}
        return parse(IssuedKey.from_json, self._client.request("POST", f"/keys/{_segment(key_id)}/rotate/", json=body))

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke for good (the key answers ``KEY_REVOKED`` from the next request on)."""
        return parse(ApiKey.from_json, self._client.request("POST", f"/keys/{_segment(key_id)}/revoke/"))

    def deactivate(self, key_id: str) -> ApiKey:
        """Suspend the key (``KEY_INACTIVE``) until it is activated again."""
        return parse(ApiKey.from_json, self._client.request("POST", f"/keys/{_segment(key_id)}/deactivate/"))

    def activate(self, key_id: str) -> ApiKey:
        """Reactivate a deactivated key. Tater allows this from the owner's signed-in session
        only: through an API key it answers 403 ``PERMISSION_DENIED`` (:class:`PermissionDenied`)."""
        return parse(ApiKey.from_json, self._client.request("POST", f"/keys/{_segment(key_id)}/activate/"))


class ScansAPI:
    """Scans (``/scans/``), the sample business resource."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    def upload(
        self,
        scan: Mapping[str, Any] | str | os.PathLike[str] | bytes,
        *,
        organization_id: str | None = None,
        tenant_id: str | None = None,
    ) -> Scan:
        """Upload one scan: a dict, raw JSON ``bytes``, or the path of a JSON file (sent as
        is). Needs ``scans:write`` and an org-bound standard or agent key. Bodies over the
        server's limit (5 MB by default) get 413 ``PAYLOAD_TOO_LARGE``. Not retried by
        default (a POST): see :class:`~tater_client.RetryPolicy`."""
        if isinstance(scan, bytes):
            content = scan
        elif isinstance(scan, str | os.PathLike):
            content = Path(scan).read_bytes()
        else:
            content = json.dumps(scan).encode()
        params: dict[str, ParamValue] = {"tenantId": tenant_id}
        if organization_id is not None:
            params["organizationId"] = organization_id
        return parse(Scan.from_json, self._client.request("POST", "/scans/upload", params=params, content=content))

    def list(
        self,
        *,
        scanner: str | None = None,
        severity: str | Sequence[str] | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = None,
        offset: int | None = None,
        organization_id: str | None = None,
    ) -> ScanPage:
        """One page of scans, newest first, without findings. ``severity`` matches scans
        with any of the given severities; ``since``/``until`` bound ``started_at``."""
        params: dict[str, ParamValue] = {
            "scanner": scanner,
            "severity": severity if severity is None or isinstance(severity, str) else builtins.list(severity),
            "since": since,
            "until": until,
            "limit": limit,
            "offset": offset,
        }
        if organization_id is not None:
            params["organizationId"] = organization_id
        return parse(ScanPage.from_json, self._client.request("GET", "/scans/", params=params))

    def iter(
        self,
        *,
        scanner: str | None = None,
        severity: str | Sequence[str] | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        page_size: int = 200,
        organization_id: str | None = None,
    ) -> Iterator[Scan]:
        """Every matching scan, fetched page by page as the iteration goes, each once.

        ``GET scans/`` pages by ``offset`` only: a scan uploaded meanwhile moves the later
        pages one place down, so the first scan of the next page may be one already
        yielded: it is skipped (by id), not yielded twice."""
        offset, seen = 0, set[str]()
        while True:
            page = self.list(
                scanner=scanner,
                severity=severity,
                since=since,
                until=until,
                limit=page_size,
                offset=offset,
                organization_id=organization_id,
            )
            if page.offset != offset:
                # Tater echoes the offset it applied: another one (a proxy dropping the
                # query) would list the first page again as if it were the next.
                raise TaterError(
                    f"The server answered offset {page.offset} for offset {offset}: it ignores the paging",
                    code="INVALID_RESPONSE",
                )
            for scan in page.scans:
                if scan.id not in seen:
                    seen.add(scan.id)
                    yield scan
            offset += len(page.scans)
            if not page.scans or offset >= page.total:
                return

    def get(self, scan_id: str, *, organization_id: str | None = None) -> Scan:
        """One scan with its findings."""
        params: dict[str, ParamValue] = {}
        if organization_id is not None:
            params["organizationId"] = organization_id
        return parse(Scan.from_json, self._client.request("GET", f"/scans/{_segment(scan_id)}/", params=params))
