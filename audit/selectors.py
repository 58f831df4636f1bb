"""Reading the audit log: filters, keyset pages and exports, always inside one org.

What a caller sees (``AuditScope``): the entries of the resolved organization; callers
with a tenant role (owner/admin, by session or by an unbound key) also see the tenant's
entries that belong to no organization (tenant settings, tenant memberships, sign-ins,
purges). Another tenant's entries never appear.

Pages (and the chunks an export reads) are keyset pages on ``id`` descending: each of the (at most two) queries walks the
``(organization, -id)`` or ``(tenant, -id)`` index from the cursor and stops after
``limit + 1`` rows, so a page costs the same at row 10 and at row 10 million, and rows
written meanwhile never shift a page. No COUNT(*) is ever run.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import AuditEvent, Channel
from audit.registry import ACTIONS
from tater.api.fields import OUT_OF_RANGE, in_datetime_range, whole_number
from tater.emails import normalize_email
from tater.exceptions import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
EXPORT_CHUNK_SIZE = 2000
ROW_FIELDS = (
    "id",
    "public_id",
    "created_at",
    "channel",
    "action",
    "actor_user_id",
    "actor_user__public_id",  # what the API shows (a LEFT JOIN: null once the user is deleted)
    "actor_email",
    "api_key_id",
    "target_type",
    "target_id",
    "target_repr",
    "organization_id",
    "tenant_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
)
_CURSOR_SALT = "audit.cursor"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_USER_ID = re.compile(r"^usr-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# The id of what acted: an API key (key-<uuid>) or, in SCIM entries, a SCIM token.
_ACTING_KEY_ID = re.compile(r"^(key|scimtoken)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# What an entry is about, by public id: key-…, usr-…, org-…, inv-…, scan-…, or a bare uuid (a tenant).
_TARGET_ID = re.compile(r"^([a-z]+-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class AuditFilters:
    channel: str | None = None
    action: str | None = None
    action_prefix: str | None = None
    # An email filter: the spellings entries name the person by, and the accounts it names.
    actor_emails: tuple[str, ...] = ()
    actor_email_users: tuple[int, ...] = ()
    actor_user_id: int | None = None
    key: str | None = None  # the key that acted
    target: str | None = None  # what the entries are about
    since: datetime | None = None
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditScope:
    tenant_pk: int
    tenant_public_id: str
    org_pk: int
    org_public_id: str
    include_tenant_level: bool


class _OrgLike(Protocol):
    @property
    def pk(self) -> int: ...

    @property
    def public_id(self) -> str: ...


class _KeyLike(Protocol):
    @property
    def is_unbound(self) -> bool: ...


class AccessLike(Protocol):
    """What the audit log reads of a caller's access (``orgs.access.Access``): audit sits
    below orgs and does not import it."""

    @property
    def tenant_pk(self) -> int: ...

    @property
    def tenant_public_id(self) -> str: ...

    @property
    def tenant_role(self) -> str | None: ...

    @property
    def key(self) -> _KeyLike | None: ...

    def organization(self) -> _OrgLike: ...


def scope_for(access: AccessLike) -> AuditScope:
    org = access.organization()
    # An org-bound key is confined to its org even when its owner holds a tenant role.
    tenant_wide = bool(access.tenant_role) and (access.key is None or access.key.is_unbound)
    return AuditScope(access.tenant_pk, access.tenant_public_id, org.pk, org.public_id, tenant_wide)


# --- Parsing the filters (shared by the API and the Activity Log page) -----------------


def _parse_time(value: str, field: str, *, end: bool) -> datetime:
    value = value.strip()
    moment = day = None
    try:
        # A bare date first: parse_datetime would read it as midnight.
        day = parse_date(value) if _DATE_ONLY.match(value) else None
        moment = datetime.combine(day, time.min, tzinfo=UTC) if day else parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput(f"{field} must be an ISO 8601 date or date-time (e.g. 2026-01-31T12:00:00Z)", field=field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Checked before the arithmetic below, which would overflow near years 1 and 9999.
    if not in_datetime_range(moment):
        raise InvalidInput(f"{field}: {OUT_OF_RANGE}", field=field)
    if not end:
        return moment
    # A bare date ``until`` covers that whole day (UTC); a date-time ``until`` is inclusive.
    return moment + (timedelta(days=1) if day else timedelta(microseconds=1))


_NOBODY = 0  # no user has pk 0: a filter by it matches no entry


def _actor_pk(actor: str) -> int:
    """A user's public id (``usr-<uuid>``) → their pk; 400 for anything else (a numeric pk
    included). A well-formed id nobody has matches no entry, as another tenant's user does:
    the filter is no oracle of which ids exist."""
    if not _USER_ID.match(actor):
        raise InvalidInput("actor must be an email address or a user id (usr-...)", field="actor")
    pk = get_user_model().objects.filter(public_id=actor).values_list("pk", flat=True).first()
    return _NOBODY if pk is None else int(pk)


def _actor_by_email(actor: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """An email filter → (the spellings an entry may name the person by, their accounts).

    SPEC §8: any spelling names the person (``STRASSE@x.test`` and ``ｓtraße@x.test`` the
    account ``straße@x.test``). Entries store the actor's address lower-cased as the account
    spells it (a failed sign-in of an address with no account: its normalized form), so the
    filter is an ``IN`` over those few spellings, plus the accounts' own entries by user:
    the scoped ``(tenant|organization, -id)`` index walk stays the plan, with nothing folded
    in SQL (PostgreSQL has no NFKC + casefold, and ``UPPER()`` folds differently)."""
    key = normalize_email(actor)
    people = list(get_user_model().objects.filter(email_canonical=key).values_list("pk", "email"))
    spellings = dict.fromkeys([key, actor.lower(), *(str(email).lower() for _, email in people)])
    return tuple(spellings), tuple(int(pk) for pk, _ in people)


def is_acting_key_id(value: str) -> bool:
    """Whether ``value`` (lower-cased) is the id of a key or SCIM token, as entries name what acted."""
    return bool(_ACTING_KEY_ID.match(value))


def is_target_id(value: str) -> bool:
    """Whether ``value`` (lower-cased) is a public id an entry can be about."""
    return bool(_TARGET_ID.match(value))


def parse_filters(params: Mapping[str, Any]) -> AuditFilters:
    """Query parameters → filters; a bad value raises InvalidInput naming its field."""

    def get(name: str) -> str:
        return str(params.get(name) or "").strip()

    values: dict[str, Any] = {}
    channel = get("channel").lower()
    if channel:
        if channel not in Channel.values:
            raise InvalidInput(f"channel must be one of {', '.join(Channel.values)}", field="channel")
        values["channel"] = channel
    action = get("action")
    if action:
        group = action[:-1] if action.endswith(".*") else None
        if group is not None and any(name.startswith(group) for name in ACTIONS):
            values["action_prefix"] = group
        elif action in ACTIONS:
            values["action"] = action
        else:
            raise InvalidInput(
                f"Unknown action {action!r} (e.g. api_key.created, or api_key.* for a group)", field="action"
            )
    actor = get("actor")
    if actor:
        if "@" in actor:
            values["actor_emails"], values["actor_email_users"] = _actor_by_email(actor)
        else:
            values["actor_user_id"] = _actor_pk(actor.lower())  # any case, as key and target
    key = get("key").lower()
    if key:
        # The key that acted, by id. Anything else (a pasted secret, the display prefix) would
        # match nothing without a word: refused, and never echoed back.
        if not is_acting_key_id(key):
            raise InvalidInput(
                "key must be the id of an API key (key-...), not the key itself or its prefix", field="key"
            )
        values["key"] = key
    target = get("target").lower()
    if target:
        if not is_target_id(target):
            raise InvalidInput(
                "target must be the id of what the entries are about (key-..., usr-..., org-...)", field="target"
            )
        values["target"] = target
    if get("since"):
        values["since"] = _parse_time(get("since"), "since", end=False)
    if get("until"):
        values["until"] = _parse_time(get("until"), "until", end=True)
    if "since" in values and "until" in values and values["since"] >= values["until"]:
        raise InvalidInput("until must be later than since", field="until")
    return AuditFilters(**values)


def parse_limit(value: Any) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    limit = whole_number(value)  # ASCII digits alone, as every number the API reads
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}", field="limit")
    return limit


def _cursor_cipher() -> MultiFernet:
    # Encrypted, not only signed: the row id inside is shared by every tenant, so a readable
    # one would tell a tenant how much the whole platform wrote between two of its pages.
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"{_CURSOR_SALT}\n{s}".encode()).digest())) for s in secrets]
    )


def encode_cursor(last_id: int, scope: AuditScope) -> str:
    """A place in one organization's log (``scope``), opaque to its reader."""
    payload = json.dumps([scope.tenant_pk, scope.org_pk, last_id]).encode()
    return _cursor_cipher().encrypt(payload).decode("ascii")


def decode_cursor(value: str | None, scope: AuditScope) -> int | None:
    """The row id a cursor names; 400 for a forged cursor or another org's (or tenant's)."""
    if not value:
        return None
    try:
        tenant_pk, org_pk, last_id = json.loads(_cursor_cipher().decrypt(value.encode("ascii")))
    except (InvalidToken, UnicodeError, ValueError, TypeError):
        tenant_pk = org_pk = last_id = None
    if (tenant_pk, org_pk) != (scope.tenant_pk, scope.org_pk) or not isinstance(last_id, int):
        raise InvalidInput("cursor is not valid: use the next_cursor of a previous page", field="cursor")
    return last_id


# --- Queries ----------------------------------------------------------------------------


def _filtered(entries: QuerySet[AuditEvent], filters: AuditFilters) -> QuerySet[AuditEvent]:
    if filters.channel:
        entries = entries.filter(channel=filters.channel)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.action_prefix:
        entries = entries.filter(action__startswith=filters.action_prefix)
    if filters.actor_emails:
        who = Q(actor_email__in=filters.actor_emails)
        if filters.actor_email_users:
            who |= Q(actor_user_id__in=filters.actor_email_users)
        entries = entries.filter(who)
    if filters.actor_user_id is not None:
        entries = entries.filter(actor_user_id=filters.actor_user_id)
    if filters.key:
        entries = entries.filter(api_key_id=filters.key)
    if filters.target:
        entries = entries.filter(target_id=filters.target)
    if filters.since:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until:
        entries = entries.filter(created_at__lt=filters.until)
    return entries


def _scoped(scope: AuditScope) -> list[QuerySet[AuditEvent]]:
    """One query per index: the org's entries, and (tenant-wide callers) the tenant's
    entries outside any org."""
    queries: list[QuerySet[AuditEvent]] = [
        AuditEvent.objects.filter(organization_id=scope.org_pk, tenant_id=scope.tenant_pk)
    ]
    if scope.include_tenant_level:
        queries.append(AuditEvent.objects.filter(tenant_id=scope.tenant_pk, organization__isnull=True))
    return queries


def _rows(
    entries: QuerySet[AuditEvent], filters: AuditFilters, before_id: int | None
) -> QuerySet[AuditEvent, dict[str, Any]]:
    """Matching rows older than ``before_id``, newest first."""
    if before_id is not None:
        entries = entries.filter(id__lt=before_id)
    return _filtered(entries, filters).order_by("-id").values(*ROW_FIELDS)


def _sources(
    scope: AuditScope, filters: AuditFilters, before_id: int | None
) -> list[QuerySet[AuditEvent, dict[str, Any]]]:
    return [_rows(entries, filters, before_id) for entries in _scoped(scope)]


def _keyset_chunks(entries: QuerySet[AuditEvent], filters: AuditFilters, chunk_size: int) -> Iterator[dict[str, Any]]:
    # Keyset chunks, not one query over every row: on PostgreSQL in autocommit a streamed
    # query is a WITH HOLD cursor, which the server materialises in full before the first
    # row (a temp file the size of the whole export, per request).
    before_id = None
    while True:
        rows = list(_rows(entries, filters, before_id)[:chunk_size])
        yield from rows
        if len(rows) < chunk_size:
            return
        before_id = rows[-1]["id"]


def _newest_first(streams: list[Any]) -> Iterator[dict[str, Any]]:
    return heapq.merge(*streams, key=lambda row: -row["id"])


def audit_page(
    *, scope: AuditScope, filters: AuditFilters, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of rows, newest first, and the cursor of the next page (None at the end)."""
    streams = [list(q[: limit + 1]) for q in _sources(scope, filters, decode_cursor(cursor, scope))]
    rows = list(_newest_first(streams))[: limit + 1]
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1]["id"], scope)
    return rows, None


def newer_cursor(
    *, scope: AuditScope, filters: AuditFilters, cursor: str | None, limit: int = DEFAULT_LIMIT
) -> str | None:
    """The page before the one ``cursor`` opens (its rows are older than the id it names, the
    last row of that page before): its cursor, "" when it is the first page, None when
    ``cursor`` opens the first page itself."""
    before_id = decode_cursor(cursor, scope)
    if before_id is None:
        return None
    streams = [
        _filtered(entries.filter(id__gte=before_id), filters).order_by("id").values_list("id", flat=True)[: limit + 1]
        for entries in _scoped(scope)
    ]
    oldest_first = sorted(itertools.chain.from_iterable(streams))[: limit + 1]
    if len(oldest_first) <= limit:
        return ""
    return encode_cursor(oldest_first[limit - 1] + 1, scope)


def audit_export(
    *, scope: AuditScope, filters: AuditFilters, chunk_size: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every matching row, newest first, read in keyset chunks of ``chunk_size`` rows
    (each a bounded walk of an index, like a page); rows written meanwhile never appear."""
    size = chunk_size or EXPORT_CHUNK_SIZE
    return _newest_first([_keyset_chunks(entries, filters, size) for entries in _scoped(scope)])


def _public_target_id(target_id: str) -> str | None:
    """A target's public id; None for one stored by row number (an object with no public id:
    a domain claim, a membership, an operator group), which counts every tenant's rows
    (SPEC §1: ids are opaque, never sequential integers). The admin still shows it."""
    return None if not target_id or target_id.isdigit() else target_id


def entry_data(row: Mapping[str, Any], scope: AuditScope) -> dict[str, Any]:
    """The public shape of one entry (API and CSV)."""
    return {
        "id": row["public_id"],
        "time": row["created_at"],
        "channel": row["channel"],
        "action": row["action"],
        "actor": {"user_id": row["actor_user__public_id"], "email": row["actor_email"]},
        "via": ("scim" if row["channel"] == "scim" else "api")
        if row["api_key_id"]
        else ("session" if row["actor_user_id"] else "system"),
        "key_id": row["api_key_id"] or None,
        "target": (
            {"type": row["target_type"], "id": _public_target_id(row["target_id"]), "display": row["target_repr"]}
            if row["target_type"]
            else None
        ),
        # Every row in scope is of this org or of no org, within this tenant.
        "organization_id": scope.org_public_id if row["organization_id"] is not None else None,
        "tenant_id": scope.tenant_public_id,
        "changes": row["changes"],
        "ip": row["ip"],
        "user_agent": row["user_agent"],
        "request_id": row["request_id"],
    }
