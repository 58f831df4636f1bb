"""SCIM tokens: format and storage, and who may create, list and revoke them on every
channel (API, UI, admin, the operator command), each audited."""

from __future__ import annotations

import json
import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEvent
from scim import tokens
from scim.models import ScimGroup, ScimToken
from tests.factories import add_member, make_key
from tests.scim.conftest import ScimClient

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/scim-tokens/"


def session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_format_and_storage(acme):
    assert re.fullmatch(r"scim_[0-9a-f]{32}", acme.secret)
    stored = ScimToken.objects.get(pk=acme.token.pk)
    assert stored.digest == tokens.digest_of(acme.secret) and stored.display_prefix == acme.secret[:9]
    values = [str(v) for v in ScimToken.objects.filter(pk=stored.pk).values().first().values()]
    assert not any(acme.secret in v for v in values)
    assert not tokens.is_well_formed("tater_" + "0" * 32) and not tokens.is_well_formed(acme.secret.upper())


def test_owner_creates_lists_and_revokes_over_the_api(acme):
    owner = session(acme.owner)
    r = owner.post(TOKENS, {"name": "Okta"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert re.fullmatch(r"scim_[0-9a-f]{32}", body["token"]) and body["prefix"] == body["token"][:9]
    assert body["scim_url"] == "http://testserver/scim/v2" and "only time" in body["notice"]
    assert "no-store" in r["Cache-Control"]
    assert ScimClient(body["token"]).get("/Users").status_code == 200

    listed = owner.get(TOKENS).json()
    assert listed["total"] == 2 and all("token" not in t for t in listed["tokens"])
    assert body["token"] not in json.dumps(listed)

    r = owner.post(f"{TOKENS}{body['id']}/revoke/")
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert ScimClient(body["token"]).get("/Users").status_code == 401
    actions = list(
        AuditEvent.objects.filter(tenant=acme.tenant, action__startswith="scim_token.").values_list(
            "action", "actor_user_id"
        )
    )
    assert ("scim_token.created", acme.owner.pk) in actions and ("scim_token.revoked", acme.owner.pk) in actions


def test_create_refuses_unknown_fields_and_bad_names(acme):
    owner = session(acme.owner)
    assert owner.post(TOKENS, {"name": "x", "tenant": "other"}, format="json").status_code == 400
    assert owner.post(TOKENS, {"name": ""}, format="json").status_code == 400
    assert owner.post(TOKENS, {"name": 7}, format="json").status_code == 400


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_only_tenant_owners_manage_tokens(acme, role):
    someone = session(add_member(acme.orgs[0], role))
    for r in (
        someone.get(TOKENS),
        someone.post(TOKENS, {"name": "x"}, format="json"),
        someone.post(f"{TOKENS}{acme.token.public_id}/revoke/"),
    ):
        assert r.status_code == 403, r.content
    acme.token.refresh_from_db()
    assert acme.token.revoked_at is None and ScimToken.objects.filter(tenant=acme.tenant).count() == 1


def test_tenant_admins_do_not_manage_tokens(acme):
    from orgs import services as org_services
    from tests.factories import UserFactory

    admin = UserFactory()
    org_services.tenant_member_set(tenant=acme.tenant, user=admin, role="admin")
    assert session(admin).post(TOKENS, {"name": "x"}, format="json").status_code == 403


def test_api_keys_never_mint_a_scim_token(acme):
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="unbound")
    _, bound = make_key(user=acme.owner, tenant=acme.tenant, org=acme.orgs[0], name="bound")
    api = APIClient()
    assert api.post(TOKENS, {"name": "x"}, format="json", HTTP_X_API_KEY=unbound).status_code == 403
    assert api.post(TOKENS, {"name": "x"}, format="json", HTTP_X_API_KEY=bound).status_code == 403
    # An organization's key does not see the tenant's tokens; the owner's unbound key may
    # list and revoke (revoking only takes access away).
    assert api.get(TOKENS, HTTP_X_API_KEY=bound).status_code == 403
    assert api.get(TOKENS, HTTP_X_API_KEY=unbound).json()["total"] == 1
    r = api.post(f"{TOKENS}{acme.token.public_id}/revoke/", HTTP_X_API_KEY=unbound)
    assert r.status_code == 200
    assert AuditEvent.objects.filter(action="scim_token.revoked", channel="api").exists()


def test_another_tenants_token_is_a_404(acme, globex):
    r = session(acme.owner).post(f"{TOKENS}{globex.token.public_id}/revoke/")
    assert r.status_code == 404
    globex.token.refresh_from_db()
    assert globex.token.revoked_at is None
    assert globex.token.public_id not in json.dumps(session(acme.owner).get(TOKENS).json())


def test_the_operator_command(acme):
    out = StringIO()
    call_command(
        "create_scim_token",
        "--tenant",
        acme.tenant.public_id,
        "--name",
        "Entra",
        "--json",
        "--base-url",
        "https://tater.example.com",
        stdout=out,
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["scim_url"] == "https://tater.example.com/scim/v2"
    assert ScimClient(result["token"]).get("/ServiceProviderConfig").status_code == 200
    event = AuditEvent.objects.get(action="scim_token.created", target_id=result["id"])
    assert event.channel == "system" and result["token"] not in json.dumps(event.changes)


def test_the_operator_command_refuses_an_unknown_tenant(db):
    out = StringIO()
    with pytest.raises(CommandError):  # exit code 1
        call_command("create_scim_token", "--tenant", "nope", "--json", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["error"] == "VALIDATION_ERROR"


# --- The settings page ------------------------------------------------------------------------


def test_the_page_is_linked_from_tenant_settings_and_for_owners_only(acme):
    owner = Client()
    owner.force_login(acme.owner)
    assert "/settings/tenant/scim/" in owner.get("/settings/tenant/").content.decode()
    page = owner.get("/settings/tenant/scim/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "http://testserver/scim/v2" in html and acme.token.display_prefix in html and acme.secret not in html
    member = Client()
    member.force_login(add_member(acme.orgs[0], "admin"))
    assert member.get("/settings/tenant/scim/").status_code == 403


def test_creating_on_the_page_shows_the_token_once(acme):
    owner = Client()
    owner.force_login(acme.owner)
    r = owner.post("/settings/tenant/scim/", {"name": "Entra ID"})
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    secret = re.search(r"scim_[0-9a-f]{32}", r.content.decode()).group(0)
    assert ScimClient(secret).get("/Users").status_code == 200
    assert secret not in owner.get("/settings/tenant/scim/").content.decode()
    token = ScimToken.objects.get(tenant=acme.tenant, name="Entra ID")
    r = owner.post(f"/settings/tenant/scim/tokens/{token.public_id}/revoke/")
    assert r.status_code == 302
    assert ScimClient(secret).get("/Users").status_code == 401


def test_mapping_a_group_on_the_page(acme):
    group = acme.scim.post("/Groups", {"displayName": "Engineering"}).json()
    owner = Client()
    owner.force_login(acme.owner)
    prefix = group["id"]
    r = owner.post(
        f"/settings/tenant/scim/groups/{group['id']}/map/",
        {f"{prefix}-organization": acme.orgs[1].public_id, f"{prefix}-role": "viewer"},
    )
    assert r.status_code == 302
    mapped = ScimGroup.objects.get(public_id=group["id"])
    assert (mapped.organization, mapped.role) == (acme.orgs[1], "viewer")
    assert "Engineering" in owner.get("/settings/tenant/scim/").content.decode()
    other = Client()
    other.force_login(add_member(acme.orgs[0], "admin"))
    r = other.post(
        f"/settings/tenant/scim/groups/{group['id']}/map/", {f"{prefix}-organization": "", f"{prefix}-role": "viewer"}
    )
    assert r.status_code == 403
    assert ScimGroup.objects.get(public_id=group["id"]).organization == acme.orgs[1]
