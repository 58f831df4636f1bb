"""Review s48 (SPEC §2 "A key never appears in logs, admin, audit entries or error bodies",
§2a nobody else receives another person's secret, §13 SCIM tokens). Earlier this session a
key's name holding a live secret was refused; every other name people give things is in
audit entries and lists others read too: an organization's (``organization.created``), a
tenant's, a SCIM token's (``scim_token.created``). A name holding a live API key or SCIM token
of this deployment is refused on every one of them, never echoed; key-shaped text that is
no secret is kept."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Organization
from scim.models import ScimToken
from tater.exceptions import InvalidInput
from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


def _audited(secret: str) -> bool:
    return secret in json.dumps(list(AuditEvent.objects.values("changes", "target_repr")), default=str)


@pytest.fixture
def world() -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(name="Initech")
    _, owner_raw = make_key(user=owner, tenant=tenant, org=None, name="owner unbound")
    _, org_raw = make_key(user=owner, tenant=tenant, org=org, name="owner org key")
    return {"tenant": tenant, "owner": owner, "org": org, "owner_raw": owner_raw, "org_raw": org_raw}


def test_an_organization_named_with_a_live_key_is_refused_without_echo(world: dict[str, Any]) -> None:
    secret = world["org_raw"]
    before = Organization.objects.count()
    r = APIClient().post(
        "/api/v1/organizations/", {"name": f"HQ {secret}"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == ["name"]
    assert secret not in r.content.decode()
    assert Organization.objects.count() == before and not _audited(secret)


def test_a_rename_to_a_live_key_is_refused_for_orgs_and_tenants(world: dict[str, Any]) -> None:
    secret = world["owner_raw"]
    with pytest.raises(InvalidInput) as org_error:
        org_services.clean_org_name(secret)
    with pytest.raises(InvalidInput) as tenant_error:
        org_services.tenant_update(tenant=world["tenant"], actor=world["owner"], name=f"Initech {secret}")
    for error in (org_error.value, tenant_error.value):
        assert secret not in error.message
    world["tenant"].refresh_from_db()
    assert world["tenant"].name == "Initech" and not _audited(secret)


def test_a_scim_token_named_with_a_live_secret_is_refused(world: dict[str, Any]) -> None:
    tenant = world["tenant"]
    out = StringIO()
    call_command("create_scim_token", "--tenant", tenant.public_id, "--name", "Okta", stdout=out)
    scim_secret = next(word for word in out.getvalue().split() if word.startswith("scim_"))
    for secret in (world["owner_raw"], scim_secret):
        with pytest.raises(CommandError) as refused:
            call_command("create_scim_token", "--tenant", tenant.public_id, "--name", f"after {secret}")
        assert secret not in str(refused.value)
        assert not _audited(secret)
    assert ScimToken.objects.filter(tenant=tenant).count() == 1


def test_key_shaped_names_that_are_no_secret_are_kept(world: dict[str, Any]) -> None:
    name = "docs tater_" + "0123456789abcdef" * 2
    org = org_services.org_create(tenant=world["tenant"], name=name)
    assert org.name == name
