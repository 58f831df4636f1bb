from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from orgs import services
from orgs.models import Tenant
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = "Create an organization in a tenant."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant id")
        parser.add_argument("--name", required=True)

    def run(self, **options: Any) -> dict[str, Any]:
        tenant = Tenant.objects.filter(public_id=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with id {options['tenant']!r}")
        org = services.org_create(tenant=tenant, name=options["name"])
        self.say(f"Created organization {org.name} ({org.public_id})")
        return {"organization_id": org.public_id}
