"""Found by an object-lifecycle review (s34): what access is left when objects move, change
or disappear, across channels (UI, API, admin, commands, SCIM).

- **``create_tenant`` hands a new tenant to an unverified account** (SPEC §8, §10): the admin's
  tenant-add form refuses an existing account that never confirmed the owner's address
  (s33), but the command, the other way operators add a tenant, took it as it was: whoever
  signed up first with ceo@globex.test, never proving they hold it, became the owner.
- **Deleting an account in the admin orphans the tenants it owned alone** (SPEC §1, §7): the
  membership pages refuse to remove a tenant's last owner, but deleting the account took
  its memberships with it, unaudited in every tenant but its home one: a tenant with no
  owner has nobody left to change its plan and policies, hold unbound keys or manage SCIM.
  (Held already: the admin's delete page refuses such an account; the test guards it.)
- **The admin's membership add pages give a role to an unverified account** (SPEC §8): the
  same squatter, picked by an operator, became an org or tenant admin directly.
- **An account's address changed on its own email page left no audit entry** (SPEC §7):
  adding, verifying, making primary and removing addresses on /accounts/email/.
- **SCIM deprovisioning left pending invitations to the tenant's other orgs live** (SPEC
  §13; README "removal ends every way back in"): the leaver accepted one and was back. The
  same for a tenant admin removed through the API/UI (their tenant role went, tenant-wide,
  but only the invitations of the org the removal was made from), or in the admin.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Tenant, TenantMembership
from tests.factories import UserFactory, add_member, mail_sent, make_tenant

pytestmark = pytest.mark.django_db


# --- create_tenant and an account signed up in advance with the owner's address ---------------
# SPEC §8: people are added directly only when their email is verified; otherwise they get an
# invitation. SPEC §2a/§10: the rules hold on every channel (UI, API, admin, commands).


def test_create_tenant_does_not_make_an_unverified_account_owner() -> None:
    from django.core.management import CommandError, call_command

    squatter = UserFactory(email="ceo@globex.test", verified=False)  # signed up, never confirmed
    with pytest.raises(CommandError):
        call_command("create_tenant", "--name", "Globex", "--owner-email", "ceo@globex.test", "--json")
    assert not TenantMembership.objects.filter(user=squatter).exists()
    assert not Tenant.objects.filter(name="Globex").exists()


def test_guard_create_tenant_still_takes_an_account_that_verified_the_address() -> None:
    from django.core.management import call_command

    owner = UserFactory(email="ceo@globex.test")
    call_command("create_tenant", "--name", "Globex", "--owner-email", "CEO@globex.test", "--json")
    assert TenantMembership.objects.get(tenant__name="Globex").user == owner


# --- Deleting an account in the admin -----------------------------------------------------------


def test_deleting_a_tenants_only_owner_in_the_admin_does_not_orphan_the_tenant() -> None:
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    tenant, owner, _ = make_tenant(name="Acme")
    admin = superuser_in_admin()
    admin.post(f"/admin/accounts/user/{owner.pk}/delete/", {"post": "yes"})
    assert TenantMembership.objects.filter(tenant=tenant, role="owner").exists(), "a tenant with no owner"


def test_deleting_an_account_in_the_admin_is_audited_in_every_tenant_it_leaves() -> None:
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    home, _, (home_org,) = make_tenant(name="Home")
    other, _, (other_org,) = make_tenant(name="Other")
    person = add_member(home_org, "member")
    add_member(other_org, "admin", user=person)
    admin = superuser_in_admin()
    r = admin.post(f"/admin/accounts/user/{person.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.status_code
    removed = AuditEvent.objects.filter(action="member.removed", tenant=other, organization=other_org)
    assert removed.exists(), "Other's members vanished from its audit log without an entry"
    assert removed.get().channel == "admin"


# --- The admin's membership pages and an account that never verified its address -----------
# SPEC §8 again: the admin's tenant-add form refuses such an account as owner (s33); its
# membership add pages gave the same account a role in an existing org or tenant directly.


@pytest.mark.parametrize("model", ["orgmembership", "tenantmembership"])
def test_the_admin_does_not_add_an_unverified_account_to_an_org_or_tenant(model: str) -> None:
    from orgs.models import OrgMembership
    from tests.operators.test_admin_sessions_groups import superuser_in_admin
    from tests.security.test_channel_parity_review import admin_form_data

    tenant, _, (org,) = make_tenant(name="Acme")
    squatter = UserFactory(email="cfo@acme.test", verified=False)
    admin = superuser_in_admin()
    url = f"/admin/orgs/{model}/add/"
    data = admin_form_data(admin, url)
    if model == "orgmembership":
        data.update({"organization": org.pk, "user": squatter.pk, "role": "admin"})
    else:
        data.update({"tenant": tenant.pk, "user": squatter.pk, "role": "admin"})
    r = admin.post(url, data)
    assert r.status_code in (200, 302), r.status_code
    assert not OrgMembership.objects.filter(user=squatter).exists()
    assert not TenantMembership.objects.filter(user=squatter).exists()
    if r.status_code == 200:
        assert "user" in r.context["adminform"].form.errors


def test_guard_the_admin_still_adds_an_account_that_verified_its_address() -> None:
    from orgs.models import OrgMembership
    from tests.operators.test_admin_sessions_groups import superuser_in_admin
    from tests.security.test_channel_parity_review import admin_form_data

    tenant, _, (org,) = make_tenant(name="Acme")
    person = UserFactory(email="cfo@acme.test")
    admin = superuser_in_admin()
    url = "/admin/orgs/orgmembership/add/"
    data = admin_form_data(admin, url)
    data.update({"organization": org.pk, "user": person.pk, "role": "member"})
    r = admin.post(url, data)
    assert r.status_code == 302, r.status_code
    assert OrgMembership.objects.get(user=person, organization=org).role == "member"


# --- An account's email changed on its own email page -------------------------------------------
# SPEC §7: every write through any channel is recorded, with what changed. The address is the
# account's sign-in name, where its mail (password resets, invitations, key expiry notices)
# goes and what SSO routing and invitations are matched against; the admin's change of it is
# audited (user.updated), but allauth's own page (/accounts/email/: add, confirm, make primary,
# remove) changed it without a trace.


def _signed_in(user: object) -> object:
    from django.test import Client

    from tests.factories import PASSWORD

    browser = Client()
    r = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})  # type: ignore[attr-defined]
    assert r.status_code == 302, r.status_code
    r = browser.post("/accounts/reauthenticate/", {"password": PASSWORD})  # email changes ask for it
    assert r.status_code == 302, r.status_code
    return browser


def test_an_email_change_on_the_accounts_own_page_is_audited() -> None:
    import re

    from allauth.account.models import EmailAddress
    from django.core import mail

    tenant, _, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member", user=UserFactory(email="bob@acme.test"))
    browser = _signed_in(person)
    with mail_sent():
        r = browser.post("/accounts/email/", {"action_add": "", "email": "bob@elsewhere.test"})
    assert r.status_code in (200, 302), r.status_code
    assert EmailAddress.objects.filter(user=person, email="bob@elsewhere.test").exists()
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[-1].body)
    assert link is not None
    browser.post(link.group(0))
    assert EmailAddress.objects.get(user=person, email="bob@elsewhere.test").verified
    r = browser.post("/accounts/email/", {"action_primary": "", "email": "bob@elsewhere.test"})
    assert r.status_code in (200, 302), r.status_code
    browser.post("/accounts/email/", {"action_remove": "", "email": "bob@acme.test"})
    person.refresh_from_db()
    assert person.email == "bob@elsewhere.test"

    entries = AuditEvent.objects.filter(target_id=person.public_id, action__startswith="user.email")
    assert entries.exists(), "the account's address changed without an audit entry"
    assert all(entry.tenant == tenant and entry.channel == "ui" for entry in entries)
    text = " ".join(str(entry.changes) for entry in entries)
    assert "bob@acme.test" in text and "bob@elsewhere.test" in text


# --- SCIM deprovisioning and a pending invitation to another org of the tenant ------------------
# SPEC §13: deprovisioning ends the person's access to the tenant. README/docs/authorization.md:
# "removal ends every way back in", pending invitations withdrawn on every channel, SCIM
# included. Deprovisioning withdrew only the invitations of the orgs the person was a member
# of: one to another org of the tenant (sent before, say, by that org's admin) stayed live,
# and the leaver, whose account another tenant still holds, accepted it and was back.


def test_a_person_deprovisioned_through_scim_cannot_come_back_through_a_pending_invitation() -> None:
    from orgs import members
    from orgs import services as org_services
    from orgs.models import Invitation, OrgMembership
    from orgs.selectors import invitation_digest
    from tater.exceptions import DomainError
    from tests.scim.conftest import make_directory, patch_op

    acme = make_directory("Acme", "acme.test")
    _, _, (globex_org,) = make_tenant(name="Globex")
    kim = add_member(acme.orgs[0], "member", user=UserFactory(email="kim@acme.test"))
    org_services.org_member_set(organization=globex_org, user=kim, role="member")  # keeps the account active
    Invitation.objects.create(
        organization=acme.orgs[1],
        email="kim@acme.test",
        role="admin",
        token_digest=invitation_digest("pending-token"),
        invited_by=acme.owner,
        expires_at=timezone.now() + timedelta(days=1),
    )
    # kim is listed in the directory as she joined (review s36): the IdP finds her there.
    found = acme.scim.get('/Users?filter=userName eq "kim@acme.test"')
    (created,) = found.json()["Resources"]
    r = acme.scim.patch(f"/Users/{created['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert r.status_code == 200, r.content
    assert not OrgMembership.objects.filter(user=kim, organization__tenant=acme.tenant).exists()

    kim.refresh_from_db()
    assert kim.is_active
    with pytest.raises(DomainError):
        members.invitation_accept(token="pending-token", user=kim)
    assert not OrgMembership.objects.filter(user=kim, organization__tenant=acme.tenant).exists()


# --- A tenant admin removed from the tenant, and a pending invitation to another org ------------
# docs/authorization.md: removing a member who holds a tenant role removes the tenant role too
# (every org it reached), and "removal ends every way back in". Only the pending invitations
# of the org the removal was made from were withdrawn: one to another org of the tenant let
# the removed tenant admin straight back in.


def test_a_tenant_admin_removed_from_the_tenant_cannot_come_back_through_another_orgs_invitation() -> None:
    from rest_framework.test import APIClient

    from orgs import members
    from orgs import services as org_services
    from orgs.models import Invitation, OrgMembership
    from orgs.selectors import invitation_digest
    from tater.exceptions import DomainError

    tenant, owner, (org1, org2) = make_tenant(name="Acme", orgs=2)
    tess = UserFactory(email="tess@example.com")
    org_services.tenant_member_set(tenant=tenant, user=tess, role="admin")
    Invitation.objects.create(
        organization=org2,
        email="tess@example.com",
        role="admin",
        token_digest=invitation_digest("pending-token"),
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=1),
    )
    api = APIClient()
    api.force_login(owner)
    r = api.delete(f"/api/v1/organizations/{org1.public_id}/members/{tess.public_id}/")
    assert r.status_code == 204, r.content
    assert not TenantMembership.objects.filter(user=tess).exists()
    with pytest.raises(DomainError):
        members.invitation_accept(token="pending-token", user=tess)
    assert not OrgMembership.objects.filter(user=tess).exists()


def test_a_tenant_role_removed_in_the_admin_withdraws_invitations_to_every_org_of_the_tenant() -> None:
    from orgs import services as org_services
    from orgs.models import Invitation
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    tenant, owner, (org1, org2) = make_tenant(name="Acme", orgs=2)
    tess = UserFactory(email="tess@example.com")
    membership = org_services.tenant_member_set(tenant=tenant, user=tess, role="admin")
    invitation = Invitation.objects.create(
        organization=org2,
        email="tess@example.com",
        role="admin",
        token_digest="e" * 64,
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=1),
    )
    admin = superuser_in_admin()
    r = admin.post(f"/admin/orgs/tenantmembership/{membership.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.status_code
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None, "the removed tenant admin can rejoin through a pending invitation"
