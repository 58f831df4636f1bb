"""Review of the day's changes (ec638f1..f290c0e): what they broke. Expectations come from the
SPEC and the README, never computed from the code under test.

- **The admin's tenant-add form hands a tenant to an unverified account** (SPEC §8).
- **A settings form saved for the org its page showed confirms on another org's page**
  (tenant settings, org rename; SPEC §4).
- **The per-key row-write cap hides the old secret's use during a rotation** (SPEC §2).
"""

from __future__ import annotations

import pytest

# --- The admin's new tenant-add form hands a tenant to an unverified account ---------------
# SPEC §8: people are added directly only when their email is verified; otherwise (an account
# somebody signed up in advance with another person's address) they get an invitation. The
# admin's add form (d14c274) takes an existing account for the owner's email as it is: whoever
# signed up first with ceo@globex.test, never proving they hold it, became the owner of the
# tenant an operator set up for Globex (SPEC §1: everything in the tenant, plan, policies,
# unbound keys).


@pytest.mark.django_db
def test_the_admin_does_not_make_an_unverified_account_owner_of_a_new_tenant() -> None:
    from orgs.models import Tenant, TenantMembership
    from tests.factories import UserFactory
    from tests.operators.test_admin_sessions_groups import superuser_in_admin
    from tests.security.test_channel_parity_review import admin_form_data

    squatter = UserFactory(email="ceo@globex.test", verified=False)  # signed up, never confirmed
    admin = superuser_in_admin()
    data = admin_form_data(admin, "/admin/orgs/tenant/add/")
    data.update({"name": "Globex", "plan": "pro", "key_creation_policy": "members", "owner_email": "ceo@globex.test"})
    response = admin.post("/admin/orgs/tenant/add/", data)
    assert response.status_code in (200, 302)
    assert not TenantMembership.objects.filter(user=squatter).exists()
    if response.status_code == 200:  # refused: the operator is told why, on the owner field
        assert "owner_email" in response.context["adminform"].form.errors
        assert not Tenant.objects.filter(name="Globex").exists()


# --- A settings form saved for the org it showed confirms on another org's page -----------
# 5d69813 made tenant settings and the org rename act on the org the page showed (SPEC §4:
# the page's org, not whatever another tab switched the session to), but their "saved" answer
# still redirects to the bare settings page, which opens on the session's org: the owner who
# saved Alpha's policies reads "Tenant settings saved." above Bravo's unchanged settings (the
# members page got this right: it names its org in the redirect).


@pytest.mark.django_db
def test_saved_tenant_settings_are_confirmed_on_the_tenant_saved() -> None:
    from django.test import Client

    from tests.factories import UserFactory, make_tenant

    owner = UserFactory()
    _alpha, _, (org_a,) = make_tenant(name="Alpha Corp", owner=owner)
    _bravo, _, (org_b,) = make_tenant(name="Bravo Corp", owner=owner)
    client = Client()
    client.force_login(owner)
    client.post("/orgs/switch/", {"org": org_a.public_id, "next": "/"})
    page = client.get("/settings/tenant/").content.decode()
    assert "Alpha Corp" in page
    action = _post_action(page, "/settings/tenant/")
    client.post("/orgs/switch/", {"org": org_b.public_id, "next": "/"})  # another tab
    saved = client.post(
        action,
        {"plan": "pro", "key_creation_policy": "members", "token_exchange_policy": "owners"},
        follow=True,
    )
    body = saved.content.decode()
    assert "Tenant settings saved." in body
    assert "Alpha Corp" in body and "Bravo Corp</strong>" not in body


@pytest.mark.django_db
def test_a_rename_is_confirmed_on_the_org_renamed() -> None:
    from django.test import Client

    from tests.factories import UserFactory, add_member, make_tenant

    owner = UserFactory()
    _tenant, _, (org_1, org_2) = make_tenant(name="Acme", owner=owner, orgs=2)
    add_member(org_1, "admin", user=owner)
    client = Client()
    client.force_login(owner)
    client.post("/orgs/switch/", {"org": org_2.public_id, "next": "/"})
    action = _post_action(client.get("/settings/org/").content.decode(), "/settings/org/")
    client.post("/orgs/switch/", {"org": org_1.public_id, "next": "/"})  # another tab
    renamed = client.post(action, {"name": "Renamed Two"}, follow=True)
    assert renamed.redirect_chain and "Organization renamed" in renamed.content.decode()
    # The page confirming it shows the org renamed (its id in the details), not the session's.
    assert f">{org_2.public_id}<" in renamed.content.decode()
    assert f">{org_1.public_id}<" not in renamed.content.decode()


def _post_action(html: str, path: str) -> str:
    import re
    from html import unescape

    match = re.search(r'<form method="post" action="(' + re.escape(path) + r'[^"]*)"', html)
    assert match, f"no form posting to {path}"
    return unescape(match.group(1))


# --- The per-key row-write cap hides the old secret's use during a rotation ----------------
# SPEC §2: rotation keeps the old secret valid for a grace period, and the key page says when
# each secret was last used (README: "during a rotation's grace period, when each secret was
# last used ... written at most once a minute") so its owner knows whether stragglers still use
# the old one before the grace ends. a7d4b7a caps a key's row writes at 60 a minute *shared by
# both secrets*: a fleet already on the new secret takes every write, and a straggler still on
# the old secret is not recorded: its owner reads "unused" and lets the grace end on it.


@pytest.mark.django_db
def test_the_old_secret_in_use_is_seen_beside_a_fleet_on_the_new_one(api, world) -> None:
    from apikeys import services as key_services

    world["tenant"].plan = "enterprise"  # 1,000 requests a minute: none of these is rate limited
    world["tenant"].save()
    key, old = world["owner_key"], world["owner_raw"]
    issued = key_services.apikey_rotate(api_key=key, actor=world["owner"], grace_period_seconds=600)
    for n in range(80):  # agents on the new secret, each from its own address, this minute
        r = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=issued.key, REMOTE_ADDR=f"10.2.0.{n + 1}")
        assert r.status_code == 200
    straggler = api.get("/api/v1/auth/validate", HTTP_X_API_KEY=old, REMOTE_ADDR="10.3.0.1")
    assert straggler.status_code == 200
    rotation = api.get(f"/api/v1/keys/{key.public_id}/", HTTP_X_API_KEY=issued.key, REMOTE_ADDR="10.2.0.1").json()
    assert rotation["rotation"]["previous_last_used_at"] is not None, rotation["rotation"]
