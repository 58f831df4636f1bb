from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from apikeys import services as key_services
from orgs import services
from orgs.models import Plan, Tenant
from tater.commands import TaterCommand

DEMO_TENANT = "Demo MSP"
DEMO_PASSWORD = "tater-demo-password"  # demo data only; refused outside DEBUG
USERS = [
    ("owner@demo.tater.test", None, "tenant owner"),
    ("admin@demo.tater.test", "admin", "org admin"),
    ("member@demo.tater.test", "member", "org member"),
    ("viewer@demo.tater.test", "viewer", "org viewer"),
]


class Command(TaterCommand):
    help = "Create a demo tenant with two orgs, an owner, an admin, a member, a viewer and their keys (printed once)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off")

    def run(self, **options: Any) -> dict[str, Any]:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("bootstrap_demo creates accounts with a published password; refusing with DEBUG off (use --force)")
        tenant = Tenant.objects.filter(name=DEMO_TENANT).first()
        if tenant is not None:
            self.say(self._accounts_text())
            self.say("Demo data already exists; its keys were printed when it was created (create more in the UI).")
            return {"tenant_id": tenant.public_id, "created": False, "users": [u[0] for u in USERS], "keys": []}
        return self._create()

    @transaction.atomic
    def _create(self) -> dict[str, Any]:
        people = {}
        for email, _, _ in USERS:
            user, _ = services.user_get_or_create(email=email, password=DEMO_PASSWORD)
            EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            people[email] = user
        owner = people[USERS[0][0]]
        tenant = services.tenant_create(name=DEMO_TENANT, owner=owner, plan=Plan.PRO)
        contoso = services.org_create(tenant=tenant, name="Contoso", actor=owner)
        fabrikam = services.org_create(tenant=tenant, name="Fabrikam", actor=owner)
        for email, role, _ in USERS[1:]:
            services.org_member_set(organization=contoso, user=people[email], role=role, actor=owner)
        keys = [
            key_services.apikey_create(creator=owner, tenant=tenant, organization=contoso, name="Contoso full access"),
            key_services.apikey_create(
                creator=owner, tenant=tenant, organization=contoso, name="Contoso read only", scopes=["*:read"]
            ),
            key_services.apikey_create(
                creator=owner, tenant=tenant, organization=contoso, name="Contoso collector", key_type="agent",
                scopes=["scans:write"],
            ),
            key_services.apikey_create(creator=owner, tenant=tenant, organization=None, name="Tenant-wide cron"),
            key_services.apikey_create(
                creator=people["member@demo.tater.test"], tenant=tenant, organization=contoso, name="Member scans",
                scopes=["scans:write"],
            ),
        ]
        self.say(self._accounts_text())
        self.say(f"\nTenant {tenant.name}: {tenant.public_id}")
        self.say(f"Organizations: Contoso {contoso.public_id}, Fabrikam {fabrikam.public_id}")
        self.say("\nAPI keys (shown only now):")
        for issued in keys:
            k = issued.api_key
            binding = k.organization.name if k.organization else "unbound"
            self.say(f"  {k.name:<22} {k.type:<8} {binding:<9} {', '.join(k.scopes):<14} {issued.key}")
        return {
            "tenant_id": tenant.public_id,
            "created": True,
            "organizations": {"Contoso": contoso.public_id, "Fabrikam": fabrikam.public_id},
            "users": [u[0] for u in USERS],
            "password": DEMO_PASSWORD,
            "keys": [
                {"id": i.api_key.public_id, "name": i.api_key.name, "type": i.api_key.type, "key": i.key} for i in keys
            ],
        }

    def _accounts_text(self) -> str:
        lines = [f"Demo accounts (password: {DEMO_PASSWORD}):"]
        lines += [f"  {email:<26} {label}" for email, _, label in USERS]
        return "\n".join(lines)
