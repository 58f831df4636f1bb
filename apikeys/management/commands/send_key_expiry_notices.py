from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.core.management.base import CommandParser
from django.db import transaction
from django.utils import timezone

from apikeys.models import ApiKey
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = "Email the owners of keys that expire within N days (once per key)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7)

    def run(self, **options: Any) -> dict[str, Any]:
        now = timezone.now()
        due = ApiKey.objects.filter(
            revoked_at__isnull=True,
            is_active=True,
            expiry_notice_sent_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=options["days"]),
        ).select_related("owner", "organization")
        sent = []
        for api_key in due:
            with transaction.atomic():
                # Claim the key first so two concurrent runs never mail twice.
                claimed = ApiKey.objects.filter(pk=api_key.pk, expiry_notice_sent_at__isnull=True).update(
                    expiry_notice_sent_at=now
                )
                if not claimed:
                    continue
                where = api_key.organization.name if api_key.organization else "tenant-wide"
                send_mail(
                    subject=f"Tater API key “{api_key.name}” expires {api_key.expires_at:%Y-%m-%d %H:%M} UTC",
                    message=(
                        f"Your API key {api_key.name} ({api_key.display_prefix}…, {where}) expires on "
                        f"{api_key.expires_at:%Y-%m-%d %H:%M} UTC.\n\nCreate a replacement or rotate it from "
                        "Manage → Connections → API Keys before then, deploy it, and revoke the old one."
                    ),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    recipient_list=[api_key.owner.email],
                )
            sent.append(api_key.public_id)
        self.say(f"Sent {len(sent)} expiry notice(s).")
        return {"sent": sent}
