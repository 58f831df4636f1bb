from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from apikeys import services
from apikeys.models import ApiKey
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = "Revoke an API key by id (final)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_id", help="Key id (key-…)")

    def run(self, **options: Any) -> dict[str, Any]:
        api_key = ApiKey.objects.filter(public_id=options["key_id"]).select_related("tenant", "organization").first()
        if api_key is None:
            raise CommandError(f"No API key with id {options['key_id']!r}")
        api_key = services.apikey_revoke(api_key=api_key, actor=None)
        self.say(f"Revoked {api_key.public_id} ({api_key.name})")
        return {"id": api_key.public_id, "revoked_at": api_key.revoked_at.isoformat() if api_key.revoked_at else None}
