"""The audit log: ``tater.audit`` (``/audit-log/``) and :class:`AuditFilters`, the entries it reads."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tater_client.errors import TaterError, ValidationError
from tater_client.models import AuditEntry, AuditPage, parse
from tater_client.params import SECRET_NOT_SENT, ParamValue, Requester, TimeLike, looks_like_secret


@dataclass(frozen=True)
class AuditFilters:
    """Which entries, every field optional (those given all apply): reusable across
    ``tater.audit.list``/``iter``/``export``/``export_rows``/``export_to`` as ``filters=``,
    where a keyword argument given alongside it replaces its field."""

    channel: str | None = None
    """``ui``, ``api``, ``admin``, ``system`` or ``scim``."""
    action: str | None = None
    """``api_key.created``, or a group: ``api_key.*``."""
    actor: str | None = None
    """Who acted: an email address or a user id (``usr-...``)."""
    key: str | None = None
    """Made **with** this key: the id (``key-...``) of the API key that acted."""
    target: str | None = None
    """**About** this object, whoever acted: its id (``key-...``, ``usr-...``, ``org-...``)."""
    since: TimeLike | None = None
    until: TimeLike | None = None
    """A date means the whole day."""

    def params(self) -> dict[str, ParamValue]:
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}


def _filters(filters: AuditFilters | None, **given: Any) -> AuditFilters:
    base = filters if filters is not None else AuditFilters()
    chosen = dataclasses.replace(base, **{name: value for name, value in given.items() if value is not None})
    for name in ("key", "target"):
        if looks_like_secret(getattr(chosen, name) or ""):
            # The server would answer this 400 too, after the secret crossed proxies and logs
            # in the query string: said here, the value never repeated.
            message = f"{name} {SECRET_NOT_SENT}"
            raise ValidationError(message, code="VALIDATION_ERROR", details={"fields": {name: [message]}})
    return chosen


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
    """The audit log (``/audit-log/``) of the resolved organization, newest first.

    Filters: ``channel`` (ui, api, admin, system, scim), ``action`` (``api_key.created`` or a
    group ``api_key.*``), ``actor`` (email or user id, ``usr-...``), ``key`` (entries made
    **with** that key: the acting key's id), ``target`` (entries **about** that object, by id:
    ``key-...``, ``usr-...``, ``org-...``), ``since``/``until`` (a date for ``until`` means the
    whole day); or ``filters=AuditFilters(...)``.
    """

    def __init__(self, client: Requester) -> None:
        self._client = client

    @staticmethod
    def _params(filters: AuditFilters, organization_id: str | None) -> dict[str, ParamValue]:
        params = filters.params()
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
        target: str | None = None,
        filters: AuditFilters | None = None,
    ) -> AuditPage:
        """One page of entries (``limit`` 1–500, default 50). Pass the page's ``next_cursor``
        as ``cursor`` for the next, older page, with the same filters and organization (a
        cursor is opaque and holds one organization's place: another's is a 400)."""
        chosen = _filters(
            filters, channel=channel, action=action, actor=actor, key=key, target=target, since=since, until=until
        )
        params = self._params(chosen, organization_id)
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
        target: str | None = None,
        filters: AuditFilters | None = None,
    ) -> Iterator[AuditEntry]:
        """Every matching entry, following the cursors as the iteration goes."""
        chosen = _filters(
            filters, channel=channel, action=action, actor=actor, key=key, target=target, since=since, until=until
        )
        cursor: str | None = None
        followed: set[str] = set()
        while True:
            page = self.list(filters=chosen, cursor=cursor, limit=page_size, organization_id=organization_id)
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
        target: str | None = None,
        filters: AuditFilters | None = None,
    ) -> Generator[bytes, None, None]:
        """The CSV export (``?format=csv``) of every matching entry, as byte chunks read
        from the network as the iteration goes: memory stays flat however large the
        export. The request is sent at the first ``next()``; an error (a bad filter, a
        missing scope) raises there, before any CSV. Close the iterator (or finish it)
        to release the connection."""
        chosen = _filters(
            filters, channel=channel, action=action, actor=actor, key=key, target=target, since=since, until=until
        )
        params = self._params(chosen, organization_id)
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
        target: str | None = None,
        filters: AuditFilters | None = None,
    ) -> Iterator[dict[str, str]]:
        """The CSV export parsed lazily: one ``{column: value}`` dict per entry (columns
        ``id``, ``time``, ``channel``, ``action``, ``actor_email``, ``key_id``, ...)."""
        chosen = _filters(
            filters, channel=channel, action=action, actor=actor, key=key, target=target, since=since, until=until
        )
        chunks = self.export(filters=chosen, organization_id=organization_id)
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
        target: str | None = None,
        filters: AuditFilters | None = None,
    ) -> int:
        """Stream the CSV export into a binary file object or a path; returns the bytes
        written. A path is written through ``<path>.part`` and renamed when complete, so
        it never holds a half export (nor is it touched when the API refuses)."""
        chosen = _filters(
            filters, channel=channel, action=action, actor=actor, key=key, target=target, since=since, until=until
        )
        chunks = self.export(filters=chosen, organization_id=organization_id)
        if not isinstance(destination, str | os.PathLike):
            return _copy(chunks, destination)
        path = Path(destination)
        partial = path.with_name(path.name + ".part")
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
            partial.replace(path)
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
