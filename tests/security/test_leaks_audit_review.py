"""Found by an attacker review of leaked-key reporting, the audit log and the operator
surfaces (expectations from SPEC §1, §7, §10, §13 and §14):

- a live SCIM token (``scim_…``) that GitHub found in public was labelled a false positive
  and kept working, although the project's own scanners flag ``scim_`` tokens as Tater keys
  and docs/leaked-keys.md lists them beside the API keys;
- the owner of another tenant added a person (directly: their address is verified) to
  their org and gave them a tenant role; from then on that person's sign-ins (time, IP,
  user agent) were filed in the attacker's audit log, and no longer in the log of the
  tenant they work for;
- an operator's edits of a user in the Django admin (email, staff/superuser flags, a new
  password) left no audit entry, where every write through any channel must be recorded;
- so did an operator deleting a tenant's SSO configuration in the admin (which also left
  the allauth SocialApp behind it in place).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs import members as member_services
from scim.services import tokens as token_services
from tests.factories import PASSWORD, UserFactory, add_member, make_key, make_tenant
from tests.leaks import conftest as leaks_conftest
from tests.leaks.conftest import ENDPOINT, alert, match

pytestmark = pytest.mark.django_db

# GitHub's stand-in (a signing key, its public keys served on 127.0.0.1), as in tests/leaks.
github = leaks_conftest.github
signing_key = leaks_conftest.signing_key

AUDIT = "/api/v1/audit-log/"


# --- SPEC §14 "every matching active key is revoked at once", §13 SCIM tokens ------------


def test_leaked_scim_token_reported_by_github_is_revoked(
    api: Any, world: dict[str, Any], github: Any, signing_key: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """A SCIM token provisions and deprovisions a whole tenant's people. Tater's scanners
    flag ``scim_`` tokens; when GitHub reports a live one, it must stop working at once."""
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Entra ID", actor=world["owner"])
    scim = Client()
    assert scim.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {issued.secret}").status_code == 200

    body = alert(match(issued.secret, type="tater_scim_token"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(ENDPOINT, data=body, content_type="application/json", **signing_key.headers(body))

    assert response.status_code == 200, response.content
    assert response.json()[0]["label"] == "true_positive"
    assert scim.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {issued.secret}").status_code == 401
    issued.token.refresh_from_db()
    assert issued.token.revoked_at is not None
    event = AuditEvent.objects.get(action="scim_token.revoked", target_id=issued.token.public_id)
    assert event.channel == "system" and event.changes.get("reason") == "leaked"
    assert issued.secret not in json.dumps(event.changes)


# --- SPEC §1 "Nothing of one tenant is ever visible to a user, key or session of another",
# §7 "Sign-ins and failed sign-ins are recorded too".


def test_another_tenant_cannot_capture_a_persons_sign_ins_by_adding_them(api: Any, world: dict[str, Any]) -> None:
    """Globex's owner adds Acme's member (verified address: added directly, no consent) and
    makes them a Globex tenant admin. The member's next sign-in, made to work in Acme, must
    not land in Globex's audit log (with its IP and user agent) instead of Acme's."""
    victim = world["member"]  # a member of Acme's org1, no tenant role
    evil_owner, evil_org = world["other_owner"], world["other_org"]
    member_services.member_add_by_email(
        organization=evil_org, email=victim.email, role="member", actor=evil_owner, accept_url=lambda t: t
    )
    member_services.member_update(organization=evil_org, user=victim, actor=evil_owner, tenant_role="admin")

    signin = Client()
    r = signin.post(
        "/api/v1/auth/login",
        data={"email": victim.email, "password": PASSWORD},
        content_type="application/json",
        HTTP_USER_AGENT="VictimBrowser/1.0",
        REMOTE_ADDR="198.51.100.7",
    )
    assert r.status_code == 200, r.content

    # Globex's owner reads their tenant-wide log with an unbound key.
    _, evil_raw = make_key(user=evil_owner, tenant=world["other_tenant"], org=None, name="tenant-wide")
    r = api.get(AUDIT, {"action": "user.login"}, HTTP_X_API_KEY=evil_raw)
    assert r.status_code == 200, r.content
    leaked = [e for e in r.json()["entries"] if e["actor"]["email"] == victim.email]
    assert leaked == [], leaked
    assert "198.51.100.7" not in r.content.decode() and "VictimBrowser" not in r.content.decode()

    # Acme, the tenant the member works for, still sees the sign-in.
    _, acme_raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="acme tenant-wide")
    r = api.get(AUDIT, {"action": "user.login"}, HTTP_X_API_KEY=acme_raw, HTTP_X_WORKSPACE_ID=world["org1"].public_id)
    assert r.status_code == 200, r.content
    assert [e["ip"] for e in r.json()["entries"] if e["actor"]["email"] == victim.email] == ["198.51.100.7"]


def test_failed_sign_ins_against_a_person_do_not_go_to_a_tenant_that_added_them(
    api: Any, world: dict[str, Any]
) -> None:
    """Same capture, for failed sign-ins: who is guessing the victim's password, and from where."""
    victim = world["member"]
    evil_owner, evil_org = world["other_owner"], world["other_org"]
    member_services.member_add_by_email(
        organization=evil_org, email=victim.email, role="member", actor=evil_owner, accept_url=lambda t: t
    )
    member_services.member_update(organization=evil_org, user=victim, actor=evil_owner, tenant_role="admin")

    r = Client().post(
        "/api/v1/auth/login",
        data={"email": victim.email, "password": "wrong-password"},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.9",
    )
    assert r.status_code in (400, 401), r.content
    _, evil_raw = make_key(user=evil_owner, tenant=world["other_tenant"], org=None, name="tenant-wide")
    r = api.get(AUDIT, {"action": "user.login_failed"}, HTTP_X_API_KEY=evil_raw)
    assert r.status_code == 200, r.content
    assert "203.0.113.9" not in r.content.decode()


# --- SPEC §7 "Every write through any channel is recorded" (channel admin), §10 operators ---


@pytest.fixture
def operator_client() -> Client:
    from tests.accounts.conftest import enrol

    staff = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(staff)
    client = Client()
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.staff = staff  # type: ignore[attr-defined]
    return client


def _user_change_form(user: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_making_a_user_superuser_is_audited(operator_client: Client) -> None:
    tenant, owner, (org,) = make_tenant(name="Initech")
    target = add_member(org, "member")
    before = AuditEvent.objects.count()
    r = operator_client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        _user_change_form(target, is_staff="on", is_superuser="on", email="new-address@example.com"),
    )
    assert r.status_code == 302, r.content.decode()[-3000:]
    target.refresh_from_db()
    assert target.is_superuser and target.email == "new-address@example.com"
    entries = list(AuditEvent.objects.order_by("id")[before:])
    assert entries, "an operator made a user superuser and changed their email: no audit entry"
    (entry,) = [e for e in entries if e.target_id == target.public_id]
    assert entry.channel == "admin"
    assert entry.actor_user_id == operator_client.staff.pk  # type: ignore[attr-defined]
    assert {"is_superuser", "is_staff", "email"} <= set(entry.changes)


def test_admin_setting_a_users_password_is_audited_without_the_password(operator_client: Client) -> None:
    target = UserFactory()
    before = AuditEvent.objects.count()
    new_password = "Another-horse-battery-9"  # noqa: S105 - a test value
    r = operator_client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert r.status_code == 302, r.content.decode()[-3000:]
    target.refresh_from_db()
    assert target.check_password(new_password)
    entries = [e for e in AuditEvent.objects.order_by("id")[before:] if e.target_id == target.public_id]
    assert [e.action for e in entries] == ["user.password_changed"]
    assert entries[0].channel == "admin"
    dump = json.dumps(entries[0].changes)
    assert new_password not in dump and target.password not in dump


def test_a_password_an_operator_sets_ends_the_accounts_sessions(operator_client: Client) -> None:
    """An operator setting a password is answering a compromise: the sessions of whoever
    had the account must end, as after a reset."""
    from accounts.models import UserSession

    target = UserFactory()
    victim_browser = Client()
    victim_browser.post("/accounts/login/", {"login": target.email, "password": PASSWORD})
    assert victim_browser.get("/accounts/security/").status_code == 200
    new_password = "Another-horse-battery-9"  # noqa: S105 - a test value
    r = operator_client.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert r.status_code == 302
    assert not UserSession.objects.filter(user=target).exists()
    assert victim_browser.get("/accounts/security/").status_code == 302
    assert operator_client.get("/admin/").status_code == 200  # the operator's own session stays


def test_a_staff_operator_cannot_make_anyone_superuser(operator_client: Client) -> None:
    """Django's default lets anyone with "change user" tick ``is_superuser``, on themselves
    too: who holds operator powers is a superuser's decision only."""
    from django.contrib.auth.models import Permission

    from tests.accounts.conftest import enrol

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["change_user", "view_user"]))
    _, codes = enrol(staff)
    client = Client()
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    for target in (staff, UserFactory()):
        r = client.post(
            f"/admin/accounts/user/{target.pk}/change/",
            _user_change_form(target, is_staff="on", is_superuser="on", first_name="Renamed"),
        )
        assert r.status_code == 302, r.content.decode()[-2000:]
        target.refresh_from_db()
        assert target.first_name == "Renamed"  # the rest of the form still saves
        assert not target.is_superuser
    other = UserFactory()
    client.post(f"/admin/accounts/user/{other.pk}/change/", _user_change_form(other, is_staff="on"))
    other.refresh_from_db()
    assert not other.is_staff


def test_admin_deleting_a_tenants_sso_configuration_is_audited(operator_client: Client) -> None:
    """Removing a tenant's single sign-on is a tenant settings change like any other."""
    from allauth.socialaccount.models import SocialApp

    from accounts import sso

    tenant, owner, _ = make_tenant(name="Umbrella")
    config = sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={"protocol": "oidc", "issuer": "https://idp.example.com", "client_id": "abc", "client_secret": "s3"},
    )
    before = AuditEvent.objects.count()
    r = operator_client.post(f"/admin/accounts/tenantssoconfig/{config.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302, r.content.decode()[-3000:]
    assert not type(config).objects.filter(pk=config.pk).exists()
    entries = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.channel, e.tenant_id) for e in entries] == [("tenant.updated", "admin", tenant.pk)]
    assert "s3" not in json.dumps(entries[0].changes)
    # The identity provider behind it is gone with it.
    assert not SocialApp.objects.filter(provider_id=config.provider_id).exists()
