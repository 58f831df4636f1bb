"""Tamper evidence: each tenant's entries form a hash chain (entries with no tenant form
one ``global`` chain).

Every entry stores its position ``seq``, the previous entry's hash ``prev_hash`` and
``entry_hash`` = HMAC-SHA256, under the audit key, of a canonical JSON of its content plus
``prev_hash``. Editing an entry breaks its own hash; deleting or reordering entries breaks
the links after them; an entry appended by someone who can write the table but does not
hold the key (the runtime database role must be able to INSERT) does not verify.

The audit key is derived from ``TATER_AUDIT_CHAIN_KEY``, or from ``SECRET_KEY`` when that is
empty. The secrets an entry may be signed with are, newest first: ``TATER_AUDIT_CHAIN_KEY``,
``SECRET_KEY``, then ``SECRET_KEY_FALLBACKS`` in their order (Django's: a rotated key goes to
the front); ``TATER_AUDIT_CHAIN_KEY_FALLBACKS`` (retired secrets the chain alone still accepts)
rank right after the key that signs now, and below them all "unkeyed" (version 1: plain SHA-256, entries written before the
chain was keyed). A chain is **sealed** by a keyed first entry (a chain started under that key,
e.g. every chain of a new install) or by a keyed ``audit.chain_keyed`` entry; from a seal on,
an entry signed with an older secret than the seal's (or unkeyed) is a forgery: whoever holds a
retired secret (a leaked ``SECRET_KEY`` replaced by a dedicated key, or rotated) cannot append
entries that verify, while entries before the seal still verify under it. A seal entry may only
move to a newer secret. ``manage.py seal_audit`` appends one to every chain not sealed under
the current signing key: after the first keyed upgrade, and after each switch of secret. The
seal is a step of its own, run once every node runs the new release or configuration: during
a rolling upgrade, nodes of the old one still write entries under the old secret (or unkeyed)
after the new one's, and a chain reported broken for that could never be repaired.

A chain started during such a rollout (a sign-up creates a tenant, whenever it comes) may get
entries of both; its first entry seals it only as far as the deployment was sealed when it was
written (``Deployment``), which the global chain's keyed entries tell: its keyed first entry
(seq 1, a new install: every chain started later refuses unkeyed entries from its first one) or
its seals (``seal_audit`` seals the global chain first: chains started before that are sealed
by their own seal entry; older secrets are refused from the first entry of a chain started
after the global chain's seal under its key). Where the global chain tells nothing, a keyed
first entry seals.

Writers lock the chain's ``AuditChainHead`` row inside the caller's transaction, so
concurrent writers of one chain queue up for a few milliseconds and the chain stays
linear; a rolled-back transaction rolls the head back too, so no gap is left.

Retention (``purge_audit``) deletes a prefix of a chain and records, in an
``audit.purged`` entry appended to that same chain, the ``anchor``: the seq and
prev_hash the first remaining entry must have, and the ``pin``: what the chain refused there
(``anchor_pin``), so a purge never unseals a chain. ``verify`` starts from the latest such
anchor (or from seq 1 and the genesis hash), so a purged chain still verifies while
any other missing prefix does not.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from audit import registry as A
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

HASH_VERSION = 2  # 1: plain SHA-256, before the chain was keyed; 2: HMAC-SHA256 under the audit key
GLOBAL_CHAIN = "global"
# The columns an entry's hash covers (besides prev_hash), by model attribute name.
HASHED_FIELDS = (
    "public_id",
    "tenant_id",
    "organization_id",
    "actor_user_id",
    "actor_email",
    "api_key_id",
    "channel",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "changes",
    "ip",
    "user_agent",
    "request_id",
    "created_at",
    "seq",
)


def chain_key(tenant_id: int | None) -> str:
    return GLOBAL_CHAIN if tenant_id is None else f"tenant:{tenant_id}"


def chain_name(tenant_id: int | None, tenant_public_id: str | None) -> str:
    """A chain as the commands print it: ``global`` or ``tenant:<the tenant's public id>``
    (database keys never leave the server; ``tenant:(missing)`` if its tenant row is gone)."""
    if tenant_id is None:
        return GLOBAL_CHAIN
    return f"tenant:{tenant_public_id or '(missing)'}"


def chain_entries(tenant_id: int | None) -> QuerySet[AuditEvent]:
    """All entries of one chain (unordered)."""
    if tenant_id is None:
        return AuditEvent.objects.filter(tenant__isnull=True)
    return AuditEvent.objects.filter(tenant_id=tenant_id)


def _plain_numbers(value: Any) -> Any:
    # jsonb may hand 1.0 back as 1: hash integral floats as ints so both read the same.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def _canonical_ip(value: Any) -> str | None:
    return str(ipaddress.ip_address(str(value))) if value else None


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_content(values: Mapping[str, Any], *, version: int = HASH_VERSION) -> bytes:
    """The bytes an entry's hash covers. Each value is normalised the same way whether it
    comes from a new entry or is read back from SQLite or PostgreSQL."""
    content: dict[str, Any] = {name: values.get(name) for name in HASHED_FIELDS}
    content["v"] = version
    content["changes"] = _plain_numbers(content["changes"] or {})
    content["ip"] = _canonical_ip(content["ip"])
    content["created_at"] = _canonical_time(content["created_at"])
    for name in ("actor_email", "api_key_id", "target_type", "target_id", "target_repr", "user_agent", "request_id"):
        content[name] = content[name] or ""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _derive(secret: str) -> bytes:
    return hashlib.sha256(b"tater.audit.chain\n" + secret.encode()).digest()


def _audit_secrets() -> dict[str, str]:
    """Each secret an entry may be signed with, newest first (module docstring), with the
    setting naming it: the dedicated key, ``SECRET_KEY`` (what signed entries before a
    dedicated key was set), then its fallbacks. ``TATER_AUDIT_CHAIN_KEY_FALLBACKS`` (retired
    secrets kept for the chain alone: Django does not trust them) come right after the key
    that signs now, never before it. A secret listed twice keeps its first place."""
    retired = [
        (f"TATER_AUDIT_CHAIN_KEY_FALLBACKS[{i}]", secret)
        for i, secret in enumerate(getattr(settings, "TATER_AUDIT_CHAIN_KEY_FALLBACKS", []))
    ]
    current = [("TATER_AUDIT_CHAIN_KEY", settings.TATER_AUDIT_CHAIN_KEY), ("SECRET_KEY", settings.SECRET_KEY)]
    signing = 0 if settings.TATER_AUDIT_CHAIN_KEY else 1
    named = [
        *current[: signing + 1],
        *retired,
        *current[signing + 1 :],
        *((f"SECRET_KEY_FALLBACKS[{i}]", secret) for i, secret in enumerate(settings.SECRET_KEY_FALLBACKS)),
    ]
    secrets: dict[str, str] = {}
    for name, secret in named:
        if secret:
            secrets.setdefault(secret, name)
    return secrets


def audit_secret_names() -> list[str]:
    """The settings naming each of ``audit_keys()``, in the same order."""
    return list(_audit_secrets().values())


def audit_keys() -> list[bytes]:
    """The key new entries are signed with, then the earlier ones entries may carry, newest first."""
    return [_derive(secret) for secret in _audit_secrets()]


def compute_hash(values: Mapping[str, Any], prev_hash: str, *, key: bytes | None = None) -> str:
    """A new entry's hash: keyed (version 2) with the current audit key unless ``key``."""
    message = canonical_content(values) + b"\n" + prev_hash.encode()
    return hmac.new(key if key is not None else audit_keys()[0], message, hashlib.sha256).hexdigest()


def _unkeyed_hash(values: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_content(values, version=1) + b"\n" + prev_hash.encode()).hexdigest()


def signer(values: Mapping[str, Any], prev_hash: str, entry_hash: str, keys: list[bytes]) -> int | None:
    """The index in ``keys`` of the key ``entry_hash`` was signed with; ``len(keys)`` if it is
    the unkeyed hash of before (older than any key), None if neither (edited, or signed with
    a key not given)."""
    for index, key in enumerate(keys):
        if hmac.compare_digest(compute_hash(values, prev_hash, key=key), entry_hash):
            return index
    return len(keys) if hmac.compare_digest(_unkeyed_hash(values, prev_hash), entry_hash) else None


def hash_version(values: Mapping[str, Any], prev_hash: str, entry_hash: str, keys: list[bytes]) -> int | None:
    """2 if ``entry_hash`` is the entry's keyed hash under one of ``keys``, 1 if it is the
    unkeyed hash of before, None if neither (edited, or signed with a key not given)."""
    index = signer(values, prev_hash, entry_hash, keys)
    return None if index is None else (2 if index < len(keys) else 1)


def event_values(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


def lock_head(tenant_id: int | None) -> AuditChainHead:
    """The chain's head row, locked until the caller's transaction ends; created on first
    use without racing a concurrent creator (the loser's INSERT fails, then it waits)."""
    key = chain_key(tenant_id)
    head = AuditChainHead.objects.select_for_update().filter(chain=key).first()
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(chain=key, tenant_id=tenant_id)
    except IntegrityError:
        pass  # another writer created it first; lock theirs
    return AuditChainHead.objects.select_for_update().get(chain=key)


def link(event: AuditEvent) -> None:
    """Set ``created_at``, ``seq``, ``prev_hash`` and ``entry_hash`` on a new, unsaved
    event and advance its chain's head. Must run inside the transaction that saves it."""
    head = lock_head(event.tenant_id)
    # Stamped under the lock, so time order and chain order agree within a chain.
    event.created_at = timezone.now()
    event.seq = head.last_seq + 1
    event.prev_hash = head.last_hash
    event.entry_hash = compute_hash(event_values(event), event.prev_hash)
    head.last_seq, head.last_hash = event.seq, event.entry_hash
    head.save(update_fields=["last_seq", "last_hash", "updated_at"])


# --- Verification ---------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # missing | edited | link | anchor | head
    seq: int | None
    entry_id: str | None
    message: str


@dataclass
class ChainReport:
    chain: str
    tenant_id: str | None
    intact: bool = True
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    anchor_seq: int = 1
    problem: Problem | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data


def expected_anchor(tenant_id: int | None) -> tuple[int, str]:
    """Where the chain must start: after the latest purge, else seq 1 and the genesis hash."""
    purge = (
        chain_entries(tenant_id)
        .filter(action=A.AUDIT_PURGED)
        .order_by("-seq")
        .values_list("changes", flat=True)
        .first()
    )
    anchor = (purge or {}).get("anchor") if isinstance(purge, dict) else None
    if isinstance(anchor, dict) and isinstance(anchor.get("seq"), int) and isinstance(anchor.get("prev_hash"), str):
        return anchor["seq"], anchor["prev_hash"]
    return 1, GENESIS_HASH


def anchor_pin(tenant_id: int | None, keys: list[bytes]) -> int:
    """The pin (``verify``) the latest purge recorded for the entry it left first: a purge
    neither unseals a chain nor makes an entry it leaves first the start of an unsealed one.
    ``len(keys)`` (nothing refused) without a keyed record."""
    fields = (*HASHED_FIELDS, "prev_hash", "entry_hash")
    row = chain_entries(tenant_id).filter(action=A.AUDIT_PURGED).order_by("-seq").values(*fields).first()
    if row is None or signer(row, row["prev_hash"], row["entry_hash"], keys) in (None, len(keys)):
        return len(keys)
    recorded = row["changes"].get("pin") if isinstance(row["changes"], dict) else None
    return next((index for index, key in enumerate(keys) if key_id(key) == recorded), len(keys))


def pin_name(pin: int, keys: list[bytes]) -> str:
    """How a purge entry records a pin: the key's id, or ``unkeyed`` (nothing refused)."""
    return key_id(keys[pin]) if pin < len(keys) else "unkeyed"


@dataclass(frozen=True)
class Deployment:
    """How far the deployment was sealed, when (module docstring), read from the global
    chain's keyed entries, which nobody without an audit key can forge: ``keyed_since``, from
    when a chain's keyed first entry refuses unkeyed entries; ``new_install``, whether a chain
    started before that was started by this release too (no release before wrote the global
    chain) rather than during a rollout; and the global chain's seals, (time, key index)."""

    keyed_since: datetime | None = None
    new_install: bool = True
    seals: tuple[tuple[datetime, int], ...] = ()

    def birth_pin(self, born: datetime, index: int, key_count: int) -> int:
        """The pin (``verify``) of a tenant chain whose first entry, written at ``born``, is
        signed with key ``index``: what the deployment was sealed against by then."""
        if self.keyed_since is None or (born < self.keyed_since and self.new_install):
            return index  # no sign of an older release: its first entry seals it
        if born < self.keyed_since:
            return key_count  # started during the rollout: its own seal entry seals it
        return max(index, min([key_count - 1, *(i for time, i in self.seals if time <= born)]))

    def record(self, keys: list[bytes]) -> dict[str, Any]:
        """What the global chain's seal and purge entries carry forward, so that purging its
        first entries and seals loses none of it: the strictest seal goes by its key's id."""
        if self.keyed_since is None:
            return {}
        record = {"keyed_since": _canonical_time(self.keyed_since), "new_install": self.new_install}
        if self.seals:
            time, index = min(self.seals, key=lambda seal: (seal[1], seal[0]))
            record["sealed"] = [_canonical_time(time), key_id(keys[index])]
        return record


def key_id(key: bytes) -> str:
    """A public name for an audit key (nothing about the key can be learnt from it)."""
    return hmac.new(key, b"tater.audit.key-id", hashlib.sha256).hexdigest()[:16]


def deployment(keys: list[bytes]) -> Deployment:
    fields = (*HASHED_FIELDS, "action", "prev_hash", "entry_hash")
    rows = (
        chain_entries(None)
        .filter(Q(seq=1, prev_hash=GENESIS_HASH) | Q(action__in=(A.AUDIT_CHAIN_KEYED, A.AUDIT_PURGED)))
        .order_by("seq")
        .values(*fields)
    )
    since: tuple[datetime, bool] | None = None
    seals = []
    for row in rows:
        index = signer(row, row["prev_hash"], row["entry_hash"], keys)
        if index is None or index == len(keys):
            continue  # anyone who can write the table could have written it: it proves nothing
        recorded = _recorded_since(row["changes"])
        seals.extend(_recorded_seal(row["changes"], keys))
        if row["action"] == A.AUDIT_CHAIN_KEYED:
            seals.append((row["created_at"], index))
            # A seal without a record sealed a global chain started unkeyed: an upgrade.
            since = since or recorded or (row["created_at"], False)
        elif row["action"] == A.AUDIT_PURGED:
            since = since or recorded
        if row["seq"] == 1 and row["prev_hash"] == GENESIS_HASH:
            since = since or (row["created_at"], True)  # started keyed: a new install
    if since is None:
        return Deployment()
    return Deployment(since[0], since[1], tuple(seals))


def _recorded_seal(changes: Any, keys: list[bytes]) -> list[tuple[datetime, int]]:
    sealed = changes.get("sealed") if isinstance(changes, dict) else None
    if not (isinstance(sealed, list) and len(sealed) == 2 and all(isinstance(v, str) for v in sealed)):
        return []
    indexes = [index for index, key in enumerate(keys) if key_id(key) == sealed[1]]
    try:
        return [(datetime.fromisoformat(sealed[0]), indexes[0])] if indexes else []
    except ValueError:
        return []


def _recorded_since(changes: Any) -> tuple[datetime, bool] | None:
    if not isinstance(changes, dict) or not isinstance(changes.get("keyed_since"), str):
        return None
    try:
        since = datetime.fromisoformat(changes["keyed_since"])
    except ValueError:
        return None
    return since, changes.get("new_install") is True


def _walk(tenant_id: int | None, chunk_size: int) -> Iterator[dict[str, Any]]:
    fields = (*HASHED_FIELDS, "action", "prev_hash", "entry_hash")
    yield from chain_entries(tenant_id).order_by("seq").values(*fields).iterator(chunk_size=chunk_size)


def verify(
    tenant_id: int | None,
    *,
    tenant_public_id: str | None = None,
    chunk_size: int = 2000,
    sealed: Deployment | None = None,
) -> ChainReport:
    """Walk one chain in seq order and report the first broken or missing link. ``sealed``:
    the ``deployment()`` (read here unless given: one read for many chains)."""
    report = ChainReport(chain=chain_name(tenant_id, tenant_public_id), tenant_id=tenant_public_id)
    head = AuditChainHead.objects.filter(chain=chain_key(tenant_id)).first()
    if head is not None:
        report.head_seq, report.head_hash = head.last_seq, head.last_hash
    seq, prev_hash = expected_anchor(tenant_id)
    report.anchor_seq = seq

    keys = audit_keys()
    # The oldest key still allowed to sign from here on (module docstring): an index in keys;
    # len(keys) (unkeyed) until the chain is sealed.
    pin, pin_seq = anchor_pin(tenant_id, keys), seq - 1
    if tenant_id is not None and sealed is None:
        sealed = deployment(keys)

    def broken(kind: str, row: Mapping[str, Any] | None, message: str) -> ChainReport:
        report.intact = False
        report.problem = Problem(kind, row["seq"] if row else None, row["public_id"] if row else None, message)
        return report

    for row in _walk(tenant_id, chunk_size):
        if report.entries == 0:
            report.first_seq = row["seq"]
        report.entries += 1
        if row["seq"] != seq:
            if report.entries == 1 and row["seq"] < seq:
                return broken(
                    "anchor", row, f"The chain starts at seq {row['seq']} but the latest purge left seq {seq} first"
                )
            return broken(
                "missing",
                row,
                f"Entries {seq}..{row['seq'] - 1} are missing before entry seq {row['seq']} (deleted outside purge_audit)",
            )
        index = signer(row, row["prev_hash"], row["entry_hash"], keys)
        if index is None:
            return broken(
                "edited",
                row,
                f"Entry seq {row['seq']} does not match its hash (its content was changed, or it was not "
                "written by the app; or the audit key it was signed with is no longer configured: "
                "TATER_AUDIT_CHAIN_KEY, its _FALLBACKS, SECRET_KEY, SECRET_KEY_FALLBACKS)",
            )
        if index > pin and index == len(keys):
            return broken(
                "unkeyed",
                row,
                f"Entry seq {row['seq']} is not signed with the audit key, in a chain sealed before it "
                "(it was appended outside the app)",
            )
        if index > pin:
            return broken(
                "retired_key",
                row,
                f"Entry seq {row['seq']} is signed with an audit secret this chain was sealed away from "
                f"at seq {pin_seq} ({audit_secret_names()[index]}; the seal was signed with "
                f"{audit_secret_names()[pin]}): whoever holds that old secret wrote it, not the app",
            )
        # Sealed by a keyed first entry (as far as the deployment was sealed then) or a keyed
        # seal entry, never towards an older secret (refused just above).
        if index < len(keys) and report.entries == 1:
            born = (
                index if sealed is None or tenant_id is None else sealed.birth_pin(row["created_at"], index, len(keys))
            )
            pin, pin_seq = min(pin, born), row["seq"]
        elif index < len(keys) and row["action"] == A.AUDIT_CHAIN_KEYED:
            pin, pin_seq = index, row["seq"]
        if row["prev_hash"] != prev_hash:
            what = "the purge anchor" if report.entries == 1 else f"entry seq {seq - 1}"
            return broken(
                "link",
                row,
                f"Entry seq {row['seq']} does not link to {what} (an entry was changed, replaced or reordered)",
            )
        prev_hash, seq = row["entry_hash"], seq + 1
        report.last_seq = row["seq"]
    last = seq - 1
    if report.head_seq > last:
        return broken("missing", None, f"Entries {last + 1}..{report.head_seq} are missing at the end of the chain")
    if report.head_seq < last or (report.entries and report.head_hash != prev_hash):
        return broken("head", None, "The chain head does not match the last entry (the head row was changed)")
    return report


class ChainBroken(RuntimeError):
    """A chain is not in a state an operation can safely build on."""
