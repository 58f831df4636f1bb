from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apikeys.models import ApiKey
from orgs.models import OrgMembership, TenantMembership
from orgs.roles import TenantRole
from tater.commands import PartlyFailed, TaterCommand
from tater.mail import send_about_tenant
from tater.names import one_line
from tater.templatetags.tater_format import when_text

logger = logging.getLogger("apikeys")

# Days before expiry at which the owner is warned, each once per expiry (GitLab's 60/30/7).
THRESHOLDS = (60, 30, 7)
MAX_DAYS = 3650  # ten years; the notices' records hold a small integer


def _owner_still_reaches(keys: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
    """Keys whose owner is active and still holds a role where the key is bound (SPEC §2:
    a key is worth its owner's current role). A deactivated or removed owner's key works no
    more, and a notice would tell someone outside the tenant its org's and key's names."""
    tenant_role = TenantMembership.objects.filter(tenant=OuterRef("tenant"), user=OuterRef("owner"))
    org_role = OrgMembership.objects.filter(organization=OuterRef("organization"), user=OuterRef("owner"))
    bound = Q(organization__isnull=False) & (Exists(tenant_role) | Exists(org_role))
    unbound = Q(organization__isnull=True) & Exists(tenant_role.filter(role=TenantRole.OWNER))
    return keys.filter(bound | unbound, owner__is_active=True)


def _due(keys: QuerySet[ApiKey], days: int, now: datetime) -> QuerySet[ApiKey]:
    """Those of ``keys`` (already within ``days`` of their expiry) whose ``days`` notice is
    due: live, not yet expired, not yet told at this or a nearer threshold, and whose owner
    still reaches them."""
    live = keys.filter(revoked_at__isnull=True, is_active=True, expires_at__gt=now)
    unsent = Q(expiry_notice_days__isnull=True) | Q(expiry_notice_days__gt=days)
    return _owner_still_reaches(live.filter(unsent))


class Command(TaterCommand):
    help = "Email the owners of keys expiring within 60, 30 and 7 days: each notice once per key and expiry."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            action="append",
            help="A threshold in days (repeat for several); default 60, 30 and 7",
        )

    def run(self, **options: Any) -> dict[str, Any]:
        now = timezone.now()
        thresholds = sorted(set(options.get("days") or THRESHOLDS))
        if any(not 1 <= days <= MAX_DAYS for days in thresholds):
            raise CommandError(f"--days must be a whole number of days from 1 to {MAX_DAYS}")
        sent: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        # Smallest threshold first: a key 5 days from expiry that was never warned gets the
        # 7-day notice only, not three at once.
        for days in thresholds:
            due = _due(ApiKey.objects.filter(expires_at__lte=now + timedelta(days=days)), days, now)
            for api_key in due.select_related("owner", "organization", "tenant"):
                if any(f["id"] == api_key.public_id for f in failed):
                    continue  # failed at a nearer threshold: the next run tries that one again
                try:
                    if self._notify(api_key, days, now):
                        sent.append({"id": api_key.public_id, "days": days})
                except Exception as exc:
                    # Whatever failed (the mail server, the Outbox's database, a template),
                    # the claim was given back: the next run tries again. The others still go.
                    logger.exception("expiry notice of key %s could not be mailed", api_key.public_id)
                    failed.append({"id": api_key.public_id, "days": days, "error": f"{type(exc).__name__}: {exc}"})
        result = {"sent": sent, "failed": failed}
        if failed:
            which = ", ".join(f"{f['id']} ({f['error']})" for f in failed)
            raise PartlyFailed(
                f"Sent {len(sent)} expiry notice(s); {len(failed)} could not be sent and will be tried "
                f"again by the next run: {which}",
                result=result,
            )
        self.say(f"Sent {len(sent)} expiry notice(s).")
        return result

    @classmethod
    def _notify(cls, api_key: ApiKey, days: int, now: datetime) -> bool:
        """Claim the notice by a conditional update (two concurrent runs never mail twice),
        then mail it; a mail that fails gives the claim back, so the next run tries again
        ("each once", not "at most once"). The claim commits before the mail goes: a slow
        mail server never holds the key's row (its revocation waits for nothing). The claim
        asks again whether the notice is due: the mails before it may have taken minutes,
        in which the key was revoked, deactivated, given a new expiry or its owner left.
        It asks under the key's row lock, in a statement of its own: on PostgreSQL one
        conditional UPDATE (Django writes it ``WHERE id IN (SELECT …)``) that waited for
        another node's claim rechecks only the ``id``, not whether the notice is still due,
        and both nodes mailed it (review s47)."""
        claim = ApiKey.objects.filter(pk=api_key.pk, expires_at=api_key.expires_at)
        with transaction.atomic():
            list(ApiKey.objects.select_for_update(no_key=True).filter(pk=api_key.pk).values_list("pk"))
            if not _due(claim, days, now).exists():
                return False
            claim.update(expiry_notice_days=days)
        try:
            cls._mail(api_key, days)
        except BaseException:
            claim.filter(expiry_notice_days=days).update(expiry_notice_days=api_key.expiry_notice_days)
            raise
        return True

    @staticmethod
    def _mail(api_key: ApiKey, days: int) -> None:
        # Names stored before they were checked may hold line breaks: shown on one line.
        where = one_line(api_key.organization.name) if api_key.organization else "tenant-wide"
        expires = when_text(api_key.expires_at)  # README "Decisions": one form of date in all mail
        name = one_line(api_key.name)
        # Named after its tenant: without a mail server, its owners read it in their Outbox.
        send_about_tenant(
            subject=f"Tater API key “{name}” expires {expires} (within {days} days)",
            body=(
                f"Your API key {name} ({api_key.display_prefix}…, {where}) expires on {expires}.\n\n"
                "Before then, give it a later expiry (Edit settings on the key's page under Manage → "
                "Connections → API Keys, as far as your tenant's maximum key lifetime allows), or create "
                "a replacement key, deploy it, and then revoke this one. Rotating the key does not help: "
                "its new secret keeps the same expiry."
            ),
            recipients=[api_key.owner.email],
            tenant_public_id=api_key.tenant.public_id,
            from_email=settings.DEFAULT_FROM_EMAIL,
        )
