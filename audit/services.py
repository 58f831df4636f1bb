"""Writing the audit log. Services call ``audit_record`` inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.registry import ACTIONS
from tater import context

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
    if action not in ACTIONS:
        raise ValueError(f"Unregistered audit action {action!r}")
    changes = changes or {}
    leaked = SECRET_FIELDS & set(changes)
    if leaked:
        raise ValueError(f"Audit changes may not carry secret fields: {sorted(leaked)}")
    ctx = context.current()
    user_id = actor_user.pk if actor_user is not None else ctx.user_id
    email = actor_email if actor_email is not None else (getattr(actor_user, "email", "") or ctx.extra.get("user_email", ""))
    target_type, target_id, target_repr = _target(target)
    event = AuditEvent(
        tenant=tenant,
        organization=organization,
        actor_user_id=user_id,
        actor_email=email or "",
        api_key_id=ctx.api_key_public_id or "",
        channel=ctx.channel,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr,
        changes=changes,
        ip=ctx.ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id,
        created_at=timezone.now(),
    )
    with transaction.atomic():
        from audit import chain

        chain.link(event)
        event.save(force_insert=True)
    return event


def diff(instance_before: dict[str, Any], instance_after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Before/after of the fields that changed."""
    return {
        name: {"from": instance_before.get(name), "to": value}
        for name, value in instance_after.items()
        if instance_before.get(name) != value
    }
