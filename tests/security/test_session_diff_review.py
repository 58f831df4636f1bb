"""Review of the 2026-12-04 session's security fixes (bb06007..fbec7b1), read as an attacker
and as the users who rely on the flows they touch. Expectations come from the SPEC and from
what a user sees, never from the code:

- the admin's "only superusers change who is staff or superuser and their permissions"
  (fbec7b1) held for the user form's checkboxes only: a staff operator with "change user"
  still set a superuser's password (or email) and signed in as them, and one with
  "change group" gave their own group every permission (SPEC §10: operators behind 2FA;
  who holds operator powers is a superuser's decision);
- a session that signed in with a recovery code (the lost-phone path) and then regenerated
  its codes stopped counting as having passed the second factor: replacing the
  authenticator or turning 2FA off, now guarded by ``second_factor_required`` (cd6df4c),
  sent it back to the step-up to spend another code (SPEC §8 2FA; a UX regression);
- "account events are filed under the tenant joined first" (08db891): an ordinary
  reorganisation in the person's own tenant (moved to another org, or deprovisioned and
  reprovisioned by SCIM) makes a tenant that added them later their "first" one, which then
  reads their sign-ins (SPEC §1: nothing of one tenant visible to another) [not fixed];
- SCIM deprovisioning of an employee who is also a platform operator (staff) left their
  sessions alive (9b9969f), where SPEC §13 says deprovisioning ends the user's sessions;
- an operator who set their own password in the admin (fbec7b1 ends the account's sessions
  there) stayed signed in on a session no longer tracked: "sign out everywhere" from
  another device left it alive (SPEC §8: sessions stored server-side).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.models import UserSession
from orgs import members as member_services
from orgs import services as org_services
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory, add_member, make_key, make_tenant
from tests.scim.conftest import DOMAIN, make_directory, patch_op

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-horse-battery-9"  # noqa: S105 - a test value


def signed_in_with_code(user: Any, code: str) -> Client:
    """A browser signed in with the password and a second-factor code (TOTP or recovery)."""
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": code}).status_code == 302
    return client


def staff_operator(*codenames: str) -> tuple[Client, Any]:
    """A staff (not superuser) operator holding only ``codenames``, in the admin."""
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    _, codes = enrol(staff)
    client = signed_in_with_code(staff, codes[0])
    assert client.get("/admin/").status_code == 200
    return client, staff


def _user_change_form(user: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else None,
        "is_superuser": "on" if user.is_superuser else None,
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- SPEC §10 operators: who is an operator, with which powers, is a superuser's decision --


def test_a_staff_operator_cannot_set_a_superusers_password_or_email() -> None:
    """A staff operator allowed to "change user" must not take over a superuser's account:
    setting its password (then signing in as it) or moving its email (then resetting the
    password there) is becoming superuser by another door."""
    client, _ = staff_operator("change_user", "view_user")
    boss = UserFactory(is_staff=True, is_superuser=True, email="boss@example.com")

    r = client.post(
        f"/admin/accounts/user/{boss.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert r.status_code == 403, r.status_code
    client.post(f"/admin/accounts/user/{boss.pk}/change/", _user_change_form(boss, email="mallory@example.com"))
    boss.refresh_from_db()
    assert boss.check_password(PASSWORD) and not boss.check_password(NEW_PASSWORD)
    assert boss.email == "boss@example.com"


def test_a_staff_operator_cannot_take_over_another_operators_account() -> None:
    """Same door, one floor down: another staff account may hold powers this operator lacks."""
    client, _ = staff_operator("change_user", "view_user")
    other = UserFactory(is_staff=True, email="other-operator@example.com")
    client.post(
        f"/admin/accounts/user/{other.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    other.refresh_from_db()
    assert other.check_password(PASSWORD)


def test_guard_a_staff_operator_still_manages_ordinary_accounts_and_their_own() -> None:
    """(Passes before and after the fix.) Support work on customers' accounts, and the
    operator's own name, stay possible for a staff operator with "change user"."""
    client, staff = staff_operator("change_user", "view_user")
    customer = UserFactory()
    r = client.post(
        f"/admin/accounts/user/{customer.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert r.status_code == 302, r.status_code
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    r = client.post(f"/admin/accounts/user/{staff.pk}/change/", _user_change_form(staff, first_name="Renamed"))
    assert r.status_code == 302, r.content.decode()[-2000:]
    staff.refresh_from_db()
    assert staff.first_name == "Renamed"


def test_a_staff_operator_cannot_give_their_own_group_every_permission() -> None:
    """The groups page is the other way to change an operator's permissions: "change group"
    must not let a staff operator grant their own group (so themselves) every permission."""
    client, staff = staff_operator("change_group", "view_group")
    support = Group.objects.create(name="support")
    staff.groups.add(support)
    every = list(Permission.objects.values_list("pk", flat=True))
    client.post(f"/admin/auth/group/{support.pk}/change/", {"name": "support", "permissions": every})
    assert support.permissions.count() == 0
    staff = type(staff).objects.get(pk=staff.pk)  # a fresh permission cache
    assert not staff.has_perm("accounts.change_user")


# --- SPEC §8 2FA with single-use recovery codes: the lost-phone path ---------------------


def test_regenerating_recovery_codes_keeps_the_session_verified() -> None:
    """Lost phone: sign in with a recovery code, regenerate the codes (the old set was just
    used), then replace the authenticator. The session passed the second factor; minting
    new codes must not send it back to the step-up to spend one of them."""
    _, user, _ = make_tenant()
    _, codes = enrol(user)
    client = signed_in_with_code(user, codes[0])
    assert client.post("/accounts/2fa/recovery-codes/").status_code == 200
    replace = client.get("/accounts/2fa/?replace=1")
    assert replace.status_code == 200, replace.get("Location")
    assert client.get("/accounts/2fa/disable/").status_code == 200


# --- SPEC §1 "Nothing of one tenant is ever visible to a user, key or session of another" --


def test_moving_a_member_between_orgs_does_not_hand_their_sign_ins_to_another_tenant(
    api: Any, world: dict[str, Any]
) -> None:
    """Globex's owner adds Acme's member directly (verified address, no consent). Later Acme
    moves the member from one org to another, an everyday change. Their sign-ins, made to
    work in Acme, must not start landing in Globex's audit log."""
    victim = world["member"]  # Acme org1 member since the start
    member_services.member_add_by_email(
        organization=world["other_org"],
        email=victim.email,
        role="member",
        actor=world["other_owner"],
        accept_url=lambda t: t,
    )
    org_services.org_member_set(organization=world["org2"], user=victim, role="member")
    org_services.org_member_set(organization=world["org1"], user=victim, role=None)

    r = Client().post(
        "/api/v1/auth/login",
        data={"email": victim.email, "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.7",
    )
    assert r.status_code == 200, r.content
    _, evil_raw = make_key(user=world["other_owner"], tenant=world["other_tenant"], org=None, name="tenant-wide")
    r = api.get("/api/v1/audit-log/", {"action": "user.login"}, HTTP_X_API_KEY=evil_raw)
    assert r.status_code == 200, r.content
    assert "198.51.100.7" not in r.content.decode()


# --- SPEC §13 "Deprovisioning (active=false or DELETE) ends the user's sessions" ----------


def test_scim_deprovisioning_an_operator_employee_ends_their_sessions() -> None:
    """Ann works at Acme (acme.test, verified by Acme) and is also a platform operator. Acme's
    IdP deprovisions her: her account may stay (the operators' own decision), but the
    sessions a leaver still holds end, as for every other deprovisioned employee."""
    acme = make_directory("Acme", DOMAIN)
    ann = add_member(acme.orgs[0], "member", UserFactory(email="ann@acme.test", is_staff=True))
    browser = Client()
    browser.post("/accounts/login/", {"login": ann.email, "password": PASSWORD})
    assert browser.get("/accounts/security/").status_code == 200
    found = acme.scim.get('/Users?filter=userName eq "ann@acme.test"').json()["Resources"]
    r = acme.scim.patch(f"/Users/{found[0]['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert r.status_code == 200, r.content
    assert not UserSession.objects.filter(user=ann).exists()
    assert browser.get("/accounts/security/").status_code == 302  # signed out


def test_guard_a_foreign_tenant_never_signs_an_operator_out() -> None:
    """(Passes before and after the fix.) An operator added to a tenant as a guest (an
    address outside its verified domains) keeps account and sessions when that tenant's
    IdP deprovisions them."""
    acme = make_directory("Acme", DOMAIN)
    operator = add_member(acme.orgs[0], "member", UserFactory(email="op@tater-ops.test", is_staff=True))
    browser = Client()
    browser.post("/accounts/login/", {"login": operator.email, "password": PASSWORD})
    found = acme.scim.get('/Users?filter=userName eq "op@tater-ops.test"').json()["Resources"]
    r = acme.scim.delete(f"/Users/{found[0]['id']}")
    assert r.status_code == 204, r.content
    operator.refresh_from_db()
    assert operator.is_active
    assert browser.get("/accounts/security/").status_code == 200


# --- SPEC §8 sessions stored server-side; "sign out everywhere" finds every session -----


def test_an_operator_setting_their_own_password_in_the_admin_keeps_a_tracked_session() -> None:
    """A password set in the admin ends the account's sessions (fbec7b1). When operators set
    their own, Django keeps them signed in: that session must still be one "sign out
    everywhere" (from another device) can end, not a live session no list shows."""
    operator = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(operator)
    admin_browser = signed_in_with_code(operator, codes[0])
    r = admin_browser.post(
        f"/admin/accounts/user/{operator.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert r.status_code == 302, r.status_code
    assert admin_browser.get("/admin/").status_code == 200  # still signed in, as Django does

    other_device = Client()
    other_device.post("/accounts/login/", {"login": operator.email, "password": NEW_PASSWORD})
    assert other_device.post("/accounts/2fa/challenge/", {"code": codes[1]}).status_code == 302
    other_device.post("/accounts/security/sign-out-everywhere/")
    assert admin_browser.get("/accounts/security/").status_code == 302  # signed out too
