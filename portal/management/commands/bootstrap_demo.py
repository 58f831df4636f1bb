from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import services
from orgs.models import Plan, Tenant
from orgs.roles import TenantRole
from tater.commands import TaterCommand, parse_site_url
from tater.emails import normalize_email

DEMO_TENANT = "Demo MSP"
DEMO_PASSWORD = "tater-demo-password"  # demo data only; refused outside DEBUG
USERS = [
    ("owner@demo.tater.test", None, "tenant owner"),
    ("admin@demo.tater.test", "admin", "org admin"),
    ("member@demo.tater.test", "member", "org member"),
    ("viewer@demo.tater.test", "viewer", "org viewer"),
]


DEMO_KEYS = ("Contoso full access", "Contoso read only", "Contoso collector", "Tenant-wide cron", "Member scans")


def demo_tenant() -> Tenant | None:
    """The tenant this command created: named so *and* owned by the demo owner. A name alone
    is anyone's to choose (a tenant owner may call theirs "Demo MSP"), and the keys found
    there are rotated and printed."""
    return (
        Tenant.objects.filter(
            name=DEMO_TENANT,
            memberships__role=TenantRole.OWNER,
            memberships__user__email_canonical=normalize_email(USERS[0][0]),
        )
        .order_by("pk")
        .first()
    )


def _result(tenant: Tenant, keys: list[key_services.IssuedKey], *, created: bool) -> dict[str, Any]:
    """The ``--json`` answer, one shape on every run (only ``created`` and ``keys`` differ)."""
    return {
        "tenant_id": tenant.public_id,
        "created": created,
        "organizations": {o.name: o.public_id for o in tenant.organizations.order_by("name")},
        "users": [u[0] for u in USERS],
        "password": DEMO_PASSWORD,
        "keys": [
            {"id": i.api_key.public_id, "name": i.api_key.name, "type": i.api_key.type, "key": i.key} for i in keys
        ],
    }


class Command(TaterCommand):
    help = "Create a demo tenant with two orgs, an owner, an admin, a member, a viewer and their keys (printed once)."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Allow running with DEBUG off")
        parser.add_argument(
            "--reissue-keys",
            action="store_true",
            help="When the demo data exists, rotate its keys (no grace period) and print the new ones",
        )
        parser.add_argument("--url", default="", help="Where the app is served, for the sign-in and API lines")

    def run(self, **options: Any) -> dict[str, Any]:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "bootstrap_demo creates accounts with a published password; refusing with DEBUG off (use --force)"
            )
        self.url = parse_site_url(options["url"], "--url")
        tenant = demo_tenant()
        if tenant is None:
            return self._create()
        if options["reissue_keys"]:
            return self._reissue(tenant)
        self._summary(tenant, [])
        self.say("Demo data already exists; its keys were printed when it was created (create more in the UI).")
        return _result(tenant, [], created=False)

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
        services.org_create(tenant=tenant, name="Fabrikam", actor=owner)
        for email, role, _ in USERS[1:]:
            services.org_member_set(organization=contoso, user=people[email], role=role, actor=owner)
        keys = [
            key_services.apikey_create(creator=owner, tenant=tenant, organization=contoso, name=DEMO_KEYS[0]),
            key_services.apikey_create(
                creator=owner, tenant=tenant, organization=contoso, name=DEMO_KEYS[1], scopes=["*:read"]
            ),
            key_services.apikey_create(
                creator=owner,
                tenant=tenant,
                organization=contoso,
                name=DEMO_KEYS[2],
                key_type="agent",
                scopes=["scans:write"],
            ),
            key_services.apikey_create(creator=owner, tenant=tenant, organization=None, name=DEMO_KEYS[3]),
            key_services.apikey_create(
                creator=people["member@demo.tater.test"],
                tenant=tenant,
                organization=contoso,
                name=DEMO_KEYS[4],
                scopes=["scans:write"],
            ),
        ]
        self._summary(tenant, keys)
        return _result(tenant, keys, created=True)

    @transaction.atomic
    def _reissue(self, tenant: Tenant) -> dict[str, Any]:
        """New secrets for the demo keys still in use (each rotated by its owner, audited)."""
        # Only the demo people's keys: a secret goes to its owner, and the demo's are published.
        demo = ApiKey.objects.filter(
            tenant=tenant,
            name__in=DEMO_KEYS,
            revoked_at__isnull=True,
            owner__email_canonical__in=[normalize_email(email) for email, _, _ in USERS],
        ).select_related("owner", "organization")
        order = {name: i for i, name in enumerate(DEMO_KEYS)}
        keys = [
            key_services.apikey_rotate(api_key=key, actor=key.owner, grace_period_seconds=0)
            for key in sorted(demo, key=lambda k: (order[k.name], k.pk))
        ]
        self._summary(tenant, keys)
        return _result(tenant, keys, created=False)

    def _summary(self, tenant: Tenant, keys: list[key_services.IssuedKey]) -> None:
        """The few lines someone needs to start: accounts, keys, where to go."""
        url = self.url or "http://127.0.0.1:8000"
        orgs = ", ".join(f"{o.name} {o.public_id}" for o in tenant.organizations.order_by("name"))
        lines = [
            f"Demo tenant {tenant.name} ({tenant.public_id}); organizations: {orgs}",
            "",
            f"Sign in at {url}/accounts/login/ with password {DEMO_PASSWORD}:",
            *(f"  {email:<26} {label}" for email, _, label in USERS),
        ]
        if keys:
            lines += ["", "API keys (shown only now; `./run serve` issues new ones each time):"]
            for issued in keys:
                k = issued.api_key
                binding = k.organization.name if k.organization else "unbound"
                lines.append(f"  {k.name:<20} {k.type:<8} {binding:<8} {', '.join(k.scopes):<12} {issued.key}")
            first = keys[0].key
            lines += [
                "",
                "Try the API:",
                f"  export TATER_URL={url} TATER_API_KEY={first}",
                '  curl -s "$TATER_URL/api/v1/auth/validate" -H "X-API-Key: $TATER_API_KEY"',
            ]
        lines += [
            "",
            f"App {url}/ · API docs {url}/api/docs/ · mail the app sent: {url}/settings/tenant/outbox/ (owner)",
        ]
        self.say("\n".join(lines))
