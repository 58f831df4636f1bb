"""The API's resources: ``tater.keys``, ``tater.scans``, ``tater.audit``."""

from __future__ import annotations

import builtins
import csv
import io
import json
import os
from collections.abc import Generator, Iterator, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import IO, Any, Final, Literal
from urllib.parse import quote

from tater_client.errors import TaterError
from tater_client.models import ApiKey, AuditEntry, AuditPage, IssuedKey, KeyPage, Scan, ScanPage, parse
from tater_client.params import ParamValue, Requester, iso

TimeLike = datetime | date | str
"""A date-time (aware ``datetime``), a ``date`` or an ISO 8601 string."""
KeyStatus = Literal["active", "expired", "revoked", "inactive"]
KeyType = Literal["standard", "agent", "public"]


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
    return quote(text, safe="")


def _check_progress(ids: set[str], seen: set[str]) -> None:
    """Offset paging: a page of ids all seen before means the server ignores ``offset`` (or a
    proxy drops it); going on would list the first page again as if it were the next."""
    if ids and ids <= seen:
        raise TaterError("The server answered a page already read: it ignores offset", code="INVALID_RESPONSE")
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
        binding: Literal["org", "unbound"] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        organization_id: str | None = None,
    ) -> KeyPage:
        """One page of keys (``limit`` 1–200, default 50), newest first."""
        params: dict[str, ParamValue] = {
            "status": status,
            "type": type,
            "binding": binding,
            "limit": limit,
            "offset": offset,
        }
        if organization_id is not None:
            params["organizationId"] = organization_id
        return parse(KeyPage.from_json, self._client.request("GET", "/keys/", params=params))

    def iter(
        self,
        *,
        status: KeyStatus | None = None,
        type: KeyType | None = None,
        binding: Literal["org", "unbound"] | None = None,
        page_size: int = 200,
        organization_id: str | None = None,
    ) -> Iterator[ApiKey]:
        """Every matching key, fetched page by page as the iteration goes."""
        offset, seen = 0, set[str]()
        while True:
            page = self.list(
                status=status,
                type=type,
                binding=binding,
                limit=page_size,
                offset=offset,
                organization_id=organization_id,
            )
            _check_progress({key.id for key in page.keys}, seen)
            yield from page.keys
            offset += len(page.keys)
            if not page.keys or offset >= page.total:
                return

    def get(self, key_id: str) -> ApiKey:
        return parse(ApiKey.from_json, self._client.request("GET", f"/keys/{_segment(key_id)}/"))

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
    ) -> IssuedKey:
        """Create a key. The result's ``key`` is the secret, **shown this once only**.

        Without ``scopes`` the key gets the caller's own effective permissions; ``scopes``
        may be ``["*"]``, ``["*:read"]`` or ``resource:action`` items (``"scans:write"``).
        An ``agent`` key carries ``["scans:write"]`` only (also without ``scopes``); a
        ``public`` key ``scans:read``/``organizations:read`` (or ``["*:read"]``); the server
        answers any other scope for them with 400 ``VALIDATION_ERROR`` naming it.
        ``rate_limit`` is a stricter per-key limit such as ``"5/min"`` or ``"100/hour"``.
        """
        body: dict[str, Any] = {"name": name}
        optional: dict[str, Any] = {
            "type": type,
            "scopes": None if scopes is None else builtins.list(scopes),
            "expires_at": _json_time(expires_at),
            "allowed_ips": None if allowed_ips is None else builtins.list(allowed_ips),
            "rate_limit": rate_limit,
            "unbound": unbound,
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
    ) -> ApiKey:
        """``PATCH /keys/{id}/``: change only the fields given. Through an API key,
        restrictions may only tighten (fewer scopes, an earlier expiry, ...)."""
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
        """Every matching scan, fetched page by page as the iteration goes."""
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
            _check_progress({scan.id for scan in page.scans}, seen)
            yield from page.scans
            offset += len(page.scans)
            if not page.scans or offset >= page.total:
                return

    def get(self, scan_id: str, *, organization_id: str | None = None) -> Scan:
        """One scan with its findings."""
        params: dict[str, ParamValue] = {}
        if organization_id is not None:
            params["organizationId"] = organization_id
        return parse(Scan.from_json, self._client.request("GET", f"/scans/{_segment(scan_id)}/", params=params))


class _ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks (for ``io.TextIOWrapper``)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = chunk
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class AuditLogAPI:
    """The audit log (``/audit-log/``) of the resolved organization, newest first."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    @staticmethod
    def _filters(
        channel: str | None,
        action: str | None,
        actor: str | None,
        key: str | None,
        since: TimeLike | None,
        until: TimeLike | None,
        organization_id: str | None,
    ) -> dict[str, ParamValue]:
        params: dict[str, ParamValue] = {
            "channel": channel,
            "action": action,
            "actor": actor,
            "key": key,
            "since": since,
            "until": until,
        }
        if organization_id is not None:
            params["organizationId"] = organization_id
        return params

    def list(
        self,
        *,
        channel: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        key: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        organization_id: str | None = None,
    ) -> AuditPage:
        """One page of entries (``limit`` 1–500, default 50). Filters: ``channel`` (ui, api,
        admin, system, scim), ``action`` (``api_key.created`` or a group ``api_key.*``),
        ``actor`` (email or user id, ``usr-...``), ``key`` (the acting key's id), ``since``/``until``
        (a date for ``until`` means the whole day). Pass the page's ``next_cursor`` as
        ``cursor`` for the next, older page."""
        params = self._filters(channel, action, actor, key, since, until, organization_id)
        params.update({"cursor": cursor, "limit": limit})
        return parse(AuditPage.from_json, self._client.request("GET", "/audit-log/", params=params))

    def iter(
        self,
        *,
        channel: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        key: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        page_size: int = 500,
        organization_id: str | None = None,
    ) -> Iterator[AuditEntry]:
        """Every matching entry, following the cursors as the iteration goes."""
        cursor: str | None = None
        followed: set[str] = set()
        while True:
            page = self.list(
                channel=channel,
                action=action,
                actor=actor,
                key=key,
                since=since,
                until=until,
                cursor=cursor,
                limit=page_size,
                organization_id=organization_id,
            )
            yield from page.entries
            cursor = page.next_cursor
            if not cursor or not page.entries:
                return
            if cursor in followed:
                # Tater's cursors only go back in time: one seen before would page forever.
                raise TaterError("The audit log's cursor leads back to a page already read", code="INVALID_RESPONSE")
            followed.add(cursor)

    def export(
        self,
        *,
        channel: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        key: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        organization_id: str | None = None,
        chunk_size: int = 64 * 1024,
    ) -> Generator[bytes, None, None]:
        """The CSV export (``?format=csv``) of every matching entry, as byte chunks read
        from the network as the iteration goes: memory stays flat however large the
        export. The request is sent at the first ``next()``; an error (a bad filter, a
        missing scope) raises there, before any CSV. Close the iterator (or finish it)
        to release the connection."""
        params = self._filters(channel, action, actor, key, since, until, organization_id)
        params["format"] = "csv"
        with self._client.stream("GET", "/audit-log/", params=params) as response:
            yield from response.iter_bytes(chunk_size)

    def export_rows(
        self,
        *,
        channel: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        key: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        organization_id: str | None = None,
    ) -> Iterator[dict[str, str]]:
        """The CSV export parsed lazily: one ``{column: value}`` dict per entry (columns
        ``id``, ``time``, ``channel``, ``action``, ``actor_email``, ``key_id``, ...)."""
        chunks = self.export(
            channel=channel,
            action=action,
            actor=actor,
            key=key,
            since=since,
            until=until,
            organization_id=organization_id,
        )
        try:
            text = io.TextIOWrapper(io.BufferedReader(_ChunkReader(chunks)), encoding="utf-8", newline="")
            yield from csv.DictReader(text)
        except (UnicodeDecodeError, csv.Error) as exc:  # not Tater's UTF-8 CSV of short fields
            raise TaterError(f"The export is not Tater's CSV: {exc}", code="INVALID_RESPONSE") from None
        finally:
            chunks.close()

    def export_to(
        self,
        destination: str | os.PathLike[str] | IO[bytes],
        *,
        channel: str | None = None,
        action: str | None = None,
        actor: str | None = None,
        key: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        organization_id: str | None = None,
    ) -> int:
        """Stream the CSV export into a binary file object or a path; returns the bytes
        written. A path is written through ``<path>.part`` and renamed when complete, so
        it never holds a half export (nor is it touched when the API refuses)."""
        chunks = self.export(
            channel=channel,
            action=action,
            actor=actor,
            key=key,
            since=since,
            until=until,
            organization_id=organization_id,
        )
        if not isinstance(destination, str | os.PathLike):
            return _copy(chunks, destination)
        target = Path(destination)
        partial = target.with_name(target.name + ".part")
        try:
            first = next(chunks, b"")  # the request: an API error raises before any file exists
            # Created afresh, the owner's alone (the log holds emails and addresses); a file or
            # link already at <path>.part (a crashed run, one planted in a shared directory) is
            # removed, never written through.
            partial.unlink(missing_ok=True)
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(first)
                written = len(first) + _copy(chunks, out)
            partial.replace(target)
        except BaseException:
            chunks.close()
            partial.unlink(missing_ok=True)
            raise
        return written


def _copy(chunks: Iterator[bytes], out: IO[bytes]) -> int:
    written = 0
    for chunk in chunks:
        out.write(chunk)
        written += len(chunk)
    return written
