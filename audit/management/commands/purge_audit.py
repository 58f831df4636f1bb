from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from audit import services
from audit.chain import ChainBroken
from tater.commands import TaterCommand, parse_duration


class Command(TaterCommand):
    help = (
        "Delete audit entries older than a retention period (e.g. --older-than 365d, at least "
        "TATER_AUDIT_MIN_RETENTION_DAYS): the one sanctioned deletion. Each purged chain gets an "
        "audit.purged entry; verify_audit still passes."
    )

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", required=True, help="Retention period: 365d, 52w, 12h ...")

    def run(self, **options: Any) -> dict[str, Any]:
        label = options["older_than"].strip().lower()
        try:
            older_than = parse_duration(label)
        except OverflowError:
            raise CommandError(f"--older-than {label} is too long") from None
        if not older_than:
            raise CommandError("--older-than must be longer than zero")
        try:
            results = services.audit_purge(older_than=older_than, label=label)
        except ChainBroken as exc:
            raise CommandError(str(exc)) from None
        except OverflowError:  # a cutoff before the year 1: older than every entry could be
            raise CommandError(f"--older-than {label} is too long") from None
        for r in results:
            self.say(
                f"Chain {r.tenant_id or r.chain}: deleted {r.deleted} entries through seq {r.through_seq} ({r.event_id})"
            )
        deleted = sum(r.deleted for r in results)
        self.say(f"Purged {deleted} audit entries older than {label}.")
        return {
            "deleted": deleted,
            "older_than": label,
            "chains": [
                {
                    "chain": r.chain,
                    "tenant_id": r.tenant_id,
                    "deleted": r.deleted,
                    "through_seq": r.through_seq,
                    "anchor_seq": r.anchor_seq,
                    "event_id": r.event_id,
                }
                for r in results
            ],
        }
