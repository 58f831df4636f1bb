"""Found by a channel-parity review (2026-12-04): the same object written through the UI,
the API, the commands and the Django admin must meet the same rules (SPEC §1, §2, §2a:
"these rules hold on every channel (UI, API, admin, commands)", §7, §10). The UI/API go
through orgs.services; the admin's tenant, organization and membership pages saved the
row directly, so:

- a membership could be *moved* in the admin (its user or organization changed): the old
  holder lost the role, but their API key, already verified and memoized, kept working with
  it (SPEC §2: "demoting or removing the owner narrows or kills the key", on every request);
- removing a member in the admin left their pending invitations live: the removed person
  accepted one and was back (the UI and API withdraw them, orgs.services.org_member_set);
- the admin removed or demoted a tenant's last owner (the services refuse: a tenant with
  no owner has nobody left to change its plan and policies or hold unbound keys, SPEC §1);
- tenant and organization names that every other channel refuses (text-direction and
  control characters, tater.names) were saved from the admin;
- the admin stored a maximum key lifetime the settings page refuses: 0 (shown as a cap,
  enforced as none) or one so large that every key creation in the tenant answered 500
  (datetime overflow), where SPEC §3 wants no 500 for anything a caller can cause;
- an organization could be moved to another tenant in the admin, its keys (bound to it,
  but still of the old tenant) and members carried along (SPEC §1: nothing of one tenant
  is visible to another); no other channel can move one;
- an account's email changed in the admin left the old address verified on the account:
  a password reset link still went there (SCIM's email change drops the old addresses,
  "the directory may give it to someone else"; SPEC §8).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Invitation, Organization, OrgMembership, Tenant, TenantMembership
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def admin_form_data(client: Client, url: str) -> dict[str, Any]:
    """The admin change form's current values, as the browser would post them back."""
    r = client.get(url)
    assert r.status_code == 200, r.status_code
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(r.context["adminform"].form)
    for inline in r.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def _change(client: Client, model: str, obj: Any, **values: Any) -> Any:
    url = f"/admin/orgs/{model}/{obj.pk}/change/"
    data = admin_form_data(client, url)
    data.update(values)
    return client.post(url, data)


def _key_works(raw: str) -> bool:
    return Client().get("/api/v1/keys/", HTTP_X_API_KEY=raw).status_code == 200


# --- Memberships -------------------------------------------------------------------------


@pytest.mark.parametrize("moved", ["user", "organization"])
def test_a_membership_moved_in_the_admin_ends_its_old_holders_key(moved: str) -> None:
    tenant, _, (org1, org2) = make_tenant(name="Acme", orgs=2)
    holder = add_member(org1, "admin")
    _, raw = make_key(user=holder, tenant=tenant, org=org1, scopes=["keys:read"])
    assert _key_works(raw)  # verified and memoized
    membership = OrgMembership.objects.get(user=holder, organization=org1)
    other = UserFactory()
    admin = superuser_in_admin()
    _change(admin, "orgmembership", membership, **{moved: other.pk if moved == "user" else org2.pk})
    if not OrgMembership.objects.filter(user=holder, organization=org1).exists():
        assert not _key_works(raw), "the key outlived its owner's membership"


def test_a_tenant_membership_moved_in_the_admin_ends_its_old_holders_unbound_key() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    co_owner = UserFactory()
    TenantMembership.objects.create(tenant=tenant, user=co_owner, role="owner")
    _, raw = make_key(user=co_owner, tenant=tenant, org=None, scopes=["keys:read"])
    assert _key_works(raw)
    membership = TenantMembership.objects.get(user=co_owner, tenant=tenant)
    admin = superuser_in_admin()
    _change(admin, "tenantmembership", membership, user=UserFactory().pk)
    if not TenantMembership.objects.filter(user=co_owner, tenant=tenant).exists():
        assert not _key_works(raw), "the unbound key outlived its owner's tenant role"


def test_removing_a_member_in_the_admin_withdraws_their_pending_invitations() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member")
    # Sent while their address was unverified (say), before they were added directly.
    invitation = Invitation.objects.create(
        organization=org,
        email=person.email,
        role="admin",
        token_digest="d" * 64,
        invited_by=owner,
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    membership = OrgMembership.objects.get(user=person, organization=org)
    admin = superuser_in_admin()
    r = admin.post(f"/admin/orgs/orgmembership/{membership.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.status_code
    assert not OrgMembership.objects.filter(user=person, organization=org).exists()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None, "the removed member can rejoin through a pending invitation"


@pytest.mark.parametrize("how", ["delete", "demote"])
def test_the_admin_keeps_a_tenants_last_owner(how: str) -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    membership = TenantMembership.objects.get(tenant=tenant, user=owner)
    admin = superuser_in_admin()
    if how == "delete":
        admin.post(f"/admin/orgs/tenantmembership/{membership.pk}/delete/", {"post": "yes"})
    else:
        _change(admin, "tenantmembership", membership, role="admin")
    assert TenantMembership.objects.filter(tenant=tenant, role="owner").exists()


# --- Tenant and organization settings -----------------------------------------------------


@pytest.mark.parametrize("model", ["tenant", "organization"])
@pytest.mark.parametrize("name", ["Acme \u202egnp.exe", "Acme\r\nBcc: x@evil.test"])
def test_the_admin_refuses_names_every_other_channel_refuses(model: str, name: str) -> None:
    tenant, _, (org,) = make_tenant(name="Acme")
    obj = tenant if model == "tenant" else org
    admin = superuser_in_admin()
    r = _change(admin, model, obj, name=name)
    assert r.status_code in (200, 302), r.status_code  # the form again, with the error
    obj.refresh_from_db()
    assert obj.name == "Acme" if model == "tenant" else obj.name == "Acme Org 1"


@pytest.mark.parametrize("days", [0, 10_000_000])
def test_the_admin_refuses_a_key_lifetime_the_settings_page_refuses(days: int) -> None:
    tenant, owner, (org,) = make_tenant(name="Acme")
    admin = superuser_in_admin()
    r = _change(admin, "tenant", tenant, max_key_lifetime_days=days)
    assert r.status_code in (200, 302), r.status_code
    tenant.refresh_from_db()
    assert tenant.max_key_lifetime_days is None
    api = Client()
    api.force_login(owner)
    r = api.post("/api/v1/keys/", {"name": "k"}, content_type="application/json")
    assert r.status_code != 500


def test_the_admin_does_not_move_an_organization_to_another_tenant() -> None:
    tenant, _, (org,) = make_tenant(name="Acme")
    other, _, _ = make_tenant(name="Globex")
    admin = superuser_in_admin()
    _change(admin, "organization", org, tenant=other.pk)
    assert Organization.objects.get(pk=org.pk).tenant_id == tenant.pk
    assert Tenant.objects.get(pk=other.pk).organizations.count() == 1


def test_a_role_change_in_the_admin_is_the_services_and_takes_effect_at_once() -> None:
    """Guard for the fix: the admin still changes roles, through the service (audited with
    channel ``admin``), and a memoized key of the demoted member narrows on the next call."""
    tenant, _, (org,) = make_tenant(name="Acme")
    holder = add_member(org, "admin")
    _, raw = make_key(user=holder, tenant=tenant, org=org, scopes=["members:write"])
    invite = {"email": "new@example.com", "role": "viewer"}
    members = f"/api/v1/organizations/{org.public_id}/members/"
    assert Client().get(members, HTTP_X_API_KEY=raw).status_code == 200
    membership = OrgMembership.objects.get(user=holder, organization=org)
    admin = superuser_in_admin()
    r = _change(admin, "orgmembership", membership, role="viewer")
    assert r.status_code == 302, r.status_code
    assert OrgMembership.objects.get(pk=membership.pk).role == "viewer"
    entry = AuditEvent.objects.filter(action="member.role_changed").latest("pk")
    assert entry.channel == "admin"
    r = Client().post(members, invite, content_type="application/json", HTTP_X_API_KEY=raw)
    assert r.status_code == 403, r.status_code


# --- Accounts ------------------------------------------------------------------------------


def test_an_email_changed_in_the_admin_no_longer_reaches_the_account_at_the_old_address(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """SCIM (scim.services.provisioning.change_account_email) drops the old address when it
    changes an account's email: "the directory may give it to someone else". The admin kept
    the old address verified on the account: whoever holds that mailbox next (the reason an
    operator changes it) resets the password and takes the account over (SPEC §8)."""
    from allauth.account.models import EmailAddress
    from django.core import mail

    person = UserFactory(email="pat@old.test")
    admin = superuser_in_admin()
    url = f"/admin/accounts/user/{person.pk}/change/"
    data = {
        "email": "pat@new.test",
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": person.date_joined.date().isoformat(),
        "date_joined_1": person.date_joined.time().strftime("%H:%M:%S"),
    }
    r = admin.post(url, data)
    assert r.status_code == 302, r.content[:2000]
    person.refresh_from_db()
    assert person.email == "pat@new.test"
    assert not EmailAddress.objects.filter(user=person, email__iexact="pat@old.test").exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password/reset/", {"email": "pat@old.test"})
    links = [m for m in mail.outbox if "pat@old.test" in m.to and "/password/reset/key/" in m.body]
    assert not links, "a reset link went to the old address"
