from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db.models import Q

from apikeys import keygen, services
from apikeys.models import ApiKey
from tater.commands import TaterCommand
from tater.secret_detectors import holds_secret
from tater.timestamps import iso_utc

SHOWN_MAX = 64  # an unknown id is repeated up to this many characters


class Command(TaterCommand):
    help = "Revoke an API key by id (final)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key_id", help="Key id (key-…)")

    def run(self, **options: Any) -> dict[str, Any]:
        given = str(options["key_id"])
        api_key = ApiKey.objects.filter(public_id=given).select_related("tenant", "organization").first()
        if api_key is None:
            if keygen.is_well_formed(given.strip()):
                raise CommandError(_pasted_secret(given.strip()))
            if holds_secret(given):  # a secret pasted with quotes or more around it
                raise CommandError("That holds an API key or SCIM token (not repeated here), not a key id (key-…)")
            shown = given if len(given) <= SHOWN_MAX else f"{given[:SHOWN_MAX]}…"
            raise CommandError(f"No API key with id {shown!r}")
        api_key = services.apikey_revoke(api_key=api_key, actor=None)
        self.say(f"Revoked {api_key.public_id} ({api_key.name})")
        return {"id": api_key.public_id, "revoked_at": iso_utc(api_key.revoked_at) if api_key.revoked_at else None}


def _pasted_secret(secret: str) -> str:
    """A key pasted where its id goes (a leak being answered): the error never repeats it
    (SPEC §2: no key in error bodies; this one lands in terminals and CI logs), and names the
    key's id when the secret is a key's, current or rotated out."""
    digest = keygen.digest_of(secret)
    key_id = (
        ApiKey.objects.filter(Q(digest=digest) | Q(previous_digest=digest)).values_list("public_id", flat=True).first()
    )
    prefix = keygen.display_prefix_of(secret)
    found = f"it is key {key_id}: run revoke_api_key {key_id}" if key_id else "no key has it"
    return f"That is an API key itself ({prefix}…, not repeated here), not a key id (key-…); {found}"
