"""Writing the audit log. Services call ``audit_record`` inside their own transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import F, Min
from django.utils import timezone

from audit import app_settings, chain
from audit import registry as A
from audit.models import AuditChainHead, AuditEvent
from audit.registry import ACTIONS
from tater import context
from tater.exceptions import InvalidInput
from tater.operations.logs import redact

SECRET_FIELDS = frozenset({"key", "digest", "previous_digest", "password", "secret", "token", "code"})


def _target(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    public_id = getattr(target, "public_id", None) or str(target.pk)
    return target._meta.model_name or "", str(public_id), str(target)[:255]


def audit_record(
    *,
    action: str,
    tenant: Any | None,
    organization: Any | None = None,
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    actor_user: Any | None = None,
    actor_email: str | None = None,
) -> AuditEvent:
    """Append one entry, in the caller's transaction; the actor comes from the request context.

    ``changes`` maps a field to ``{"from": old, "to": new}`` (or any JSON detail); fields
    that could hold a secret are refused outright rather than silently dropped.
    """
    fields = _entry_fields(action, target, changes, actor_user, actor_email)
    return _append(AuditEvent(tenant=tenant, organization=organization, **fields))


def _entry_fields(
    action: str,
    target: models.Model | None,
    changes: dict[str, Any] | None,
    actor_user: Any | None,
    actor_email: str | None,
) -> dict[str, Any]:
    """An entry's columns but its tenant and organization, checked (action, secrets)."""
    if action not in ACTIONS:
        raise ValueError(f"Unregistered audit action {action!r}")
    changes = changes or {}
    leaked = SECRET_FIELDS & set(changes)
    if leaked:
        raise ValueError(f"Audit changes may not carry secret fields: {sorted(leaked)}")
    ctx = context.current()
    user_id = actor_user.pk if actor_user is not None else ctx.user_id
    email = (
        actor_email
        if actor_email is not None
        else (getattr(actor_user, "email", "") or ctx.extra.get("user_email", ""))
    )
    target_type, target_id, target_repr = _target(target)
    return {
        "actor_user_id": user_id,
        "actor_email": _text(email, 254).lower(),
        "api_key_id": ctx.api_key_public_id or "",
        "channel": ctx.channel,
        "action": action,
        "target_type": _text(target_type, 64),
        "target_id": _text(target_id, 64),
        "target_repr": _text(target_repr, 255),
        # Stored exactly as the database will hand it back, so the entry hash recomputes.
        "changes": _as_stored(json.loads(json.dumps(changes, cls=DjangoJSONEncoder))),
        "ip": ctx.ip or None,
        # Sent by the client and read by everyone who reads the org's log: a key or token a
        # client put in it (SPEC §2: never in an audit entry) is redacted as log lines are.
        "user_agent": _text(redact(str(ctx.user_agent or "")), 512),
        "request_id": _text(ctx.request_id, 64),
        "created_at": timezone.now(),
    }


def _append(event: AuditEvent) -> AuditEvent:
    # A savepoint: if the entry cannot be written the caller's change fails with it.
    with transaction.atomic():
        chain.link(event)
        event.save(force_insert=True)
    return event


# Beyond this a whole float is no longer the number its JSON text spells: 1e23 is the double
# 99999999999999991611392, but PostgreSQL's jsonb keeps and hands back the decimal the text
# wrote, 10**23, and the entry would no longer match its hash (chain._plain_numbers).
_EXACT_FLOATS = 2**53


def _as_stored(value: Any) -> Any:
    """``changes`` as both databases hand them back: a large whole float (a client's metadata)
    becomes the integer its JSON text spells."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= _EXACT_FLOATS:
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {name: _as_stored(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_as_stored(item) for item in value]
    return value


def _text(value: Any, limit: int) -> str:
    # Truncate before hashing (the column would) and drop NULs, which PostgreSQL refuses.
    return str(value or "").replace("\x00", "")[:limit]


def diff(instance_before: dict[str, Any], instance_after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Before/after of the fields that changed."""
    return {
        name: {"from": instance_before.get(name), "to": value}
        for name, value in instance_after.items()
        if instance_before.get(name) != value
    }


def seal_chains() -> list[str]:
    """Seal every chain not yet sealed under the current audit key with a keyed
    ``audit.chain_keyed`` entry: no entry signed with an older secret (or unkeyed) verifies
    after it (``audit.chain``). ``manage.py seal_audit``, once every node runs the keyed release
    and again after each switch of secret (a dedicated ``TATER_AUDIT_CHAIN_KEY``, a rotated
    ``SECRET_KEY``); returns the chains sealed, by name (``chain.chain_name``). A chain sealed under the current key already,
    or started under it once the deployment was, is left alone. The global chain goes first:
    its seal tells which chains were started during the rollout (``chain.Deployment``)."""
    keys = chain.audit_keys()
    sealed = []
    deployment = chain.deployment(keys)
    heads = AuditChainHead.objects.filter(last_seq__gt=0).order_by(F("tenant_id").asc(nulls_first=True), "pk")
    for name, tenant_public_id in heads.values_list("chain", "tenant__public_id"):
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().get(chain=name)
            if min(_sealed_under(head.tenant_id, keys, deployment), chain.anchor_pin(head.tenant_id, keys)) == 0:
                continue
            changes = {"sealed_after_seq": head.last_seq, "signed_with": chain.audit_secret_names()[0]}
            if head.tenant_id is None:
                changes.update(deployment.record(keys))
            with context.use(context.RequestContext(channel="system")):
                fields = _entry_fields(A.AUDIT_CHAIN_KEYED, None, changes, None, None)
                _append(AuditEvent(tenant_id=head.tenant_id, **fields))
            if head.tenant_id is None:
                deployment = chain.deployment(keys)  # what the global chain's new seal tells
            sealed.append(chain.chain_name(head.tenant_id, tenant_public_id))
    return sealed


def _sealed_under(
    tenant_id: int | None,
    keys: list[bytes],
    deployment: chain.Deployment,
    *,
    seal: AuditEvent | None = None,
    entry: AuditEvent | None = None,
) -> int:
    """The index in ``keys`` of the oldest key the chain still admits (``len(keys)``: unkeyed
    too), as of its latest seal entry, else its first entry (or as of ``entry``, a ``seal``
    or the first entry)."""
    if entry is None:
        entries = chain.chain_entries(tenant_id)
        seal = entries.filter(action=A.AUDIT_CHAIN_KEYED).order_by("-seq").first()
        entry = seal if seal is not None else entries.order_by("seq").first()
    if entry is None:
        return len(keys)
    index = chain.signer(chain.event_values(entry), entry.prev_hash, entry.entry_hash, keys)
    if index is None or index == len(keys):
        return len(keys)
    if seal is None and tenant_id is not None:
        return deployment.birth_pin(entry.created_at, index, len(keys))
    return index


def _pin_through(tenant_id: int | None, through: int, keys: list[bytes], deployment: chain.Deployment) -> int:
    """The pin ``verify`` reaches after entry ``through``: the strictest of what the latest
    purge left, what the chain's first entry sealed and its seals up to there."""
    entries = chain.chain_entries(tenant_id)
    pins = [chain.anchor_pin(tenant_id, keys)]
    first = entries.order_by("seq").first()
    if first is not None:
        pins.append(_sealed_under(tenant_id, keys, deployment, seal=None, entry=first))
    for seal in entries.filter(action=A.AUDIT_CHAIN_KEYED, seq__lte=through):
        pins.append(_sealed_under(tenant_id, keys, deployment, seal=seal, entry=seal))
    return min(pins)


@dataclass(frozen=True)
class PurgeResult:
    chain: str
    tenant_id: str | None
    deleted: int
    through_seq: int
    anchor_seq: int
    event_id: str


def _clock() -> datetime:
    # The purge function checks ages against the database's clock: cut off by that clock too,
    # or an app server whose clock runs ahead would ask for deletions the database refuses.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


def _delete_prefix(tenant_id: int | None, through: int) -> int:
    """Delete a chain's entries up to ``through``, the one sanctioned deletion."""
    if connection.vendor == "postgresql":
        # Only this SECURITY DEFINER function may delete (migration 0004): it enforces the
        # minimum retention and that the purge was announced, whatever role calls it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT tater_audit_purge(%s::bigint, %s::bigint)", [tenant_id, through])
            return int(cursor.fetchone()[0])
    doomed = chain.chain_entries(tenant_id).filter(seq__lte=through)
    # The model's delete() refuses on purpose.
    return doomed._raw_delete(doomed.db)


def _purge_chain(
    head: AuditChainHead, cutoff: datetime, older_than: str, tenant_public_id: str | None
) -> PurgeResult | None:
    entries = chain.chain_entries(head.tenant_id)
    first_young = entries.filter(created_at__gte=cutoff).aggregate(m=Min("seq"))["m"]
    through = first_young - 1 if first_young is not None else head.last_seq
    first = entries.aggregate(m=Min("seq"))["m"]
    if first is None or through < first:
        return None
    # The last deleted entry's hash becomes the anchor the first remaining entry links to.
    anchor_prev = entries.filter(seq=through).values_list("entry_hash", flat=True).first()
    if anchor_prev is None:
        raise chain.ChainBroken(
            f"Chain {chain.chain_name(head.tenant_id, tenant_public_id)} has no entry seq {through}: run verify_audit before purging"
        )
    to_delete = entries.filter(seq__lte=through).count()
    changes = {
        "older_than": older_than,
        "cutoff": cutoff.isoformat(),
        "deleted": to_delete,
        "through_seq": through,
        "anchor": {"seq": through + 1, "prev_hash": anchor_prev},
    }
    keys = chain.audit_keys()
    deployment = chain.deployment(keys)
    # What the entry left first must still refuse (verify starts from it), then, for the global
    # chain, what its first entries and seals tell.
    changes["pin"] = chain.pin_name(_pin_through(head.tenant_id, through, keys, deployment), keys)
    if head.tenant_id is None:
        changes.update(deployment.record(keys))
    # Recorded first: on PostgreSQL the purge function deletes only what the chain's newest
    # entry announces, so a deletion without its audit entry is impossible. The entry goes
    # to the chain's own tenant (by id: audit sits below orgs and does not load tenants).
    fields = _entry_fields(A.AUDIT_PURGED, None, changes, None, None)
    event = _append(AuditEvent(tenant_id=head.tenant_id, **fields))
    deleted = _delete_prefix(head.tenant_id, through)
    return PurgeResult(
        chain.chain_name(head.tenant_id, tenant_public_id),
        tenant_public_id,
        deleted,
        through,
        through + 1,
        event.public_id,
    )


def audit_purge(*, older_than: timedelta, label: str = "") -> list[PurgeResult]:
    """Delete entries older than ``older_than`` from every chain: the one sanctioned
    deletion. Each chain loses a prefix (entries up to the first one that is still young)
    and gains an ``audit.purged`` entry recording the new anchor, in one transaction per
    chain, so ``verify_audit`` still passes afterwards.

    Refuses a period shorter than the minimum retention (``audit.app_settings``); on
    PostgreSQL the database refuses it too, whoever calls."""
    floor = app_settings.min_retention()
    if older_than < floor:
        raise InvalidInput(f"Audit entries are kept at least {floor.days} days (TATER_AUDIT_MIN_RETENTION_DAYS)")
    cutoff = _clock() - older_than
    results = []
    # Each chain with its tenant's public id (None for the global chain or a tenant gone).
    chains = AuditChainHead.objects.order_by("pk").values_list("chain", "tenant__public_id")
    for chain_name, tenant_public_id in chains:
        with transaction.atomic():
            head = AuditChainHead.objects.select_for_update().get(chain=chain_name)
            result = _purge_chain(head, cutoff, label or f"{older_than.total_seconds():.0f}s", tenant_public_id)
        if result is not None:
            results.append(result)
    return results
