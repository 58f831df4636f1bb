from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from apikeys import services
from apikeys.models import KeyType
from orgs import email_owners
from orgs.members import has_verified_email
from orgs.models import Organization, Tenant
from tater import scopes
from tater.commands import TaterCommand, parse_duration
from tater.emails import normalize_email
from tater.timestamps import iso_utc


class Command(TaterCommand):
    help = "Create an API key for a user; the key is printed once. It can never exceed the user's role."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="Owner's email")
        parser.add_argument("--tenant", required=True, help="Tenant id")
        parser.add_argument("--org", help="Organization id (omit for an unbound key: tenant owners only)")
        parser.add_argument("--type", choices=KeyType.values, default=KeyType.STANDARD)
        parser.add_argument("--name", default="Command-line key")
        parser.add_argument(
            "--scopes",
            help='"*", "*:read" or e.g. "scans:read,keys:write"; omitted: the user\'s own permissions '
            "(agent keys: scans:write, public keys: their business-data reads)",
        )
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument("--expires-in", help="e.g. 30d, 12h, 2s")
        expiry.add_argument("--expires-at", help="ISO 8601 time with its zone, e.g. 2030-01-01T00:00:00Z")
        parser.add_argument("--allow-ip", action="append", default=[], help="CIDR; repeat for several")
        parser.add_argument("--rate-limit", default="", help='e.g. "5/min"')

    def run(self, **options: Any) -> dict[str, Any]:
        user = email_owners.account_holding(options["user"])  # by any of the person's addresses
        if user is None:
            raise CommandError(f"No user with email {options['user']!r}")
        if email_owners.user_by_email(options["user"]) is None and not has_verified_email(
            user, normalize_email(options["user"])
        ):
            # Anyone may add any address to their account: an additional one names its
            # account only once verified (as for a tenant's owner or a member added).
            raise CommandError(
                f"The account holding {options['user']!r} as an additional address has never verified it: "
                "name the account by its own address or one it verified"
            )
        tenant = Tenant.objects.filter(public_id=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with id {options['tenant']!r}")
        org = None
        if options.get("org"):
            org = Organization.objects.filter(tenant=tenant, public_id=options["org"]).first()
            if org is None:
                raise CommandError(f"No organization {options['org']!r} in tenant {tenant.public_id}")
        scope_specs = None  # the service's default: the user's own permissions, as the type allows
        if options.get("scopes") is not None:
            try:
                scope_specs = scopes.parse_cli(options["scopes"])
            except scopes.InvalidScope as exc:
                raise CommandError(str(exc)) from None
        expires_at = None
        if options.get("expires_in"):
            try:
                expires_at = timezone.now() + parse_duration(options["expires_in"])
            except OverflowError:  # further away than a date holds (a typo such as 99999999d)
                raise CommandError(f"--expires-in {options['expires_in']} is too long") from None
        elif options.get("expires_at"):
            try:
                expires_at = datetime.fromisoformat(options["expires_at"])
            except ValueError:
                raise CommandError(f"Invalid --expires-at {options['expires_at']!r}: use ISO 8601") from None
            if timezone.is_naive(expires_at):
                raise CommandError("--expires-at needs a time zone (e.g. 2030-01-01T00:00:00Z for UTC)")
        issued = services.apikey_create(
            creator=user,
            tenant=tenant,
            organization=org,
            name=options["name"],
            key_type=options["type"],
            scopes=scope_specs,
            expires_at=expires_at,
            allowed_ips=options["allow_ip"],
            rate_limit=options["rate_limit"],
        )
        key = issued.api_key
        self.say(
            f"Created {key.type} key {key.public_id} ({key.name}). This is the only time it is shown:\n{issued.key}"
        )
        return {
            "id": key.public_id,
            "key": issued.key,
            "prefix": key.display_prefix,
            "type": key.type,
            "organization_id": org.public_id if org else None,
            "scopes": key.scopes,
            "expires_at": iso_utc(key.expires_at) if key.expires_at else None,
        }
