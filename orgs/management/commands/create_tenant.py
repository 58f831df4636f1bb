from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from orgs import email_owners, members, services
from orgs.models import Plan
from tater.commands import TaterCommand
from tater.exceptions import InvalidInput


class Command(TaterCommand):
    help = "Create a tenant and its owner (the user is created if needed)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument(
            "--password", help="Password for a new owner account (omit: the owner uses password reset or SSO)"
        )
        parser.add_argument("--plan", choices=Plan.values, default=Plan.FREE)
        parser.add_argument(
            "--owner-unverified-ok",
            action="store_true",
            help="Make an existing account the owner although it never verified the address (you vouch for it)",
        )

    def run(self, **options: Any) -> dict[str, Any]:
        # One transaction: a tenant refused (e.g. its name) leaves no new owner account behind.
        existing = email_owners.account_holding(options["owner_email"])
        if existing is not None and not options["owner_unverified_ok"]:
            if not members.proved_address(existing, options["owner_email"]):
                raise InvalidInput(
                    "An account with this address exists but has never verified it (anyone can sign up with an "
                    "address): it becomes an owner once it has confirmed the address, or pass "
                    "--owner-unverified-ok if you know the account is theirs",
                    field="owner_email",
                )
        with transaction.atomic():
            owner, created = services.user_get_or_create(email=options["owner_email"], password=options.get("password"))
            tenant = services.tenant_create(name=options["name"], owner=owner, plan=options["plan"])
        if not created and options.get("password"):
            self.say("Owner account already exists; its password was left unchanged.")
        self.say(f"Created tenant {tenant.name} ({tenant.public_id}) owned by {owner.email}")
        return {"tenant_id": tenant.public_id, "owner_id": owner.public_id}
