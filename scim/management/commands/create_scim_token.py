from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.urls import reverse

from orgs.models import Tenant
from scim.services import tokens as token_services
from tater.commands import TaterCommand, parse_site_url

PATH_ONLY = (
    "a path only: Entra ID and Okta need the site's public address before it, "
    "e.g. https://tater.example.com{path}; pass --base-url to print it whole"
)


class Command(TaterCommand):
    help = "Create a SCIM token for a tenant's identity provider; the token is printed once."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant id")
        parser.add_argument("--name", default="Identity provider provisioning")
        parser.add_argument(
            "--base-url",
            default="",
            help="The site's public URL (e.g. https://tater.example.com), to print the tenant URL",
        )

    def run(self, **options: Any) -> dict[str, Any]:
        tenant = Tenant.objects.filter(public_id=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with id {options['tenant']!r}")
        base_url = parse_site_url(options["base_url"], "--base-url")
        issued = token_services.scim_token_create(tenant=tenant, name=options["name"], actor=None)
        token = issued.token
        scim_path = reverse("scim-root").rstrip("/")
        scim_url = base_url + scim_path
        # No setting names the site's public address (the API and UI take it from the request):
        # without --base-url the tenant URL is a path, which an identity provider does not take.
        note = "" if base_url else f" ({PATH_ONLY.format(path=scim_path)})"
        self.say(
            f"Created SCIM token {token.public_id} ({token.name}) for {tenant.name}. "
            f"This is the only time it is shown:\n{issued.secret}\nTenant URL: {scim_url}{note}"
        )
        if note and self._json:
            self.stderr.write(f"scim_url {scim_url} is {PATH_ONLY.format(path=scim_path)}")
        return {
            "id": token.public_id,
            "token": issued.secret,
            "prefix": token.display_prefix,
            "name": token.name,
            "tenant_id": tenant.public_id,
            "scim_url": scim_url,
        }
