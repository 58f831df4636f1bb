"""Audit completeness (SPEC §7): every write is recorded in the same transaction as the
change. Here: the account pages allauth serves (password change, password reset, sign-up,
email addresses), where the entry is written by a signal receiver after allauth saved."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from accounts import mfa, passkeys
from audit.models import AuditEvent
from tater import context
from tests.factories import PASSWORD, UserFactory, mail_sent

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-new-and-long-passphrase-42"


@pytest.fixture
def ui():
    with context.use(context.RequestContext(channel="ui", ip="203.0.113.9", user_agent="pytest-e")) as ctx:
        yield ctx


def audit_down():
    """The audit entry cannot be written (the store refuses the insert)."""
    return mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down"))


def signed_in(user, *, reauthenticated: bool = False) -> Client:
    client = Client(raise_request_exception=False)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    if reauthenticated:  # the email page asks for the password again first
        assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return client


class TestAllauthPagesWriteInTheEntrysTransaction:
    def test_password_change_is_undone_when_its_entry_fails(self) -> None:
        user = UserFactory()
        client = signed_in(user)
        with audit_down():
            response = client.post(
                "/accounts/password/change/",
                {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            )
        assert response.status_code == 500
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
        assert not AuditEvent.objects.filter(action="user.password_changed").exists()

    def test_password_reset_is_undone_when_its_entry_fails(self) -> None:
        user = UserFactory(email="reset-e@example.com")
        client = Client(raise_request_exception=False)
        with mail_sent():
            assert client.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
        link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
        form_page = client.get(link, follow=True)
        action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
        with audit_down():
            response = client.post(action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert response.status_code == 500
        user.refresh_from_db()
        assert user.check_password(PASSWORD)

    def test_sign_up_is_undone_when_its_entry_fails(self) -> None:
        client = Client(raise_request_exception=False)
        with audit_down():
            response = client.post(
                "/accounts/signup/",
                {"email": "never-e@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            )
        assert response.status_code == 500
        assert not get_user_model().objects.filter(email="never-e@example.com").exists()

    def test_email_added_is_undone_when_its_entry_fails(self) -> None:
        user = UserFactory()
        client = signed_in(user, reauthenticated=True)
        with audit_down():
            response = client.post("/accounts/email/", {"action_add": "", "email": "second-e@example.com"})
        assert response.status_code == 500
        assert not EmailAddress.objects.filter(email="second-e@example.com").exists()

    def test_email_added_is_recorded(self) -> None:
        user = UserFactory()
        client = signed_in(user, reauthenticated=True)
        response = client.post("/accounts/email/", {"action_add": "", "email": "second-e@example.com"})
        assert response.status_code == 302
        entry = AuditEvent.objects.get(action="user.email_changed")
        assert (entry.channel, entry.actor_user_id) == ("ui", user.pk)
        assert entry.changes == {"added": "second-e@example.com"}


def a_passkey(user, name: str = "Passkey"):
    from django_otp_webauthn.models import WebAuthnCredential

    return WebAuthnCredential.objects.create(
        user=user,
        name=name,
        credential_id=b"cred-e",
        credential_id_sha256="0" * 64,
        public_key=b"pk",
        aaguid="00000000-0000-0000-0000-000000000000",
    )


class TestPasskeyRename:
    """A passkey's name is what the security page and the admin show to tell factors apart:
    renaming one is a change to the account's sign-in factors (GitHub's security log records
    it), so it is recorded like adding or removing one. (Its owner has passed 2FA to reach the
    page: the service is called as the view calls it.)"""

    def test_rename_is_recorded_with_before_and_after(self, ui) -> None:
        user = UserFactory()
        passkey = a_passkey(user)
        ui.user_id = user.pk
        passkeys.passkey_rename(passkey=passkey, name="Work laptop")
        entry = AuditEvent.objects.get(action="mfa.passkey_renamed")
        assert (entry.channel, entry.actor_user_id, entry.target_id) == ("ui", user.pk, user.public_id)
        assert entry.changes == {"method": "passkey", "name": {"from": "Passkey", "to": "Work laptop"}}

    def test_same_name_writes_no_entry(self, ui) -> None:
        user = UserFactory()
        passkey = a_passkey(user, name="Work laptop")
        passkeys.passkey_rename(passkey=passkey, name=" Work  laptop ")
        assert not AuditEvent.objects.filter(action="mfa.passkey_renamed").exists()

    def test_rename_is_undone_when_its_entry_fails(self, ui) -> None:
        user = UserFactory()
        passkey = a_passkey(user)
        with audit_down(), pytest.raises(RuntimeError):
            passkeys.passkey_rename(passkey=passkey, name="Work laptop")
        passkey.refresh_from_db()
        assert passkey.name == "Passkey"


class TestTwoFactorOff:
    def test_turning_off_with_nothing_on_writes_no_entry(self) -> None:
        user = UserFactory()
        client = signed_in(user)
        response = client.post("/accounts/2fa/disable/", {"password": PASSWORD})
        assert response.status_code == 302
        assert not AuditEvent.objects.filter(action="mfa.disabled").exists()

    def test_turning_off_says_which_factors_went(self, ui) -> None:
        user = UserFactory()
        a_passkey(user)
        ui.user_id = user.pk
        mfa.mfa_disable(user=user)
        entry = AuditEvent.objects.get(action="mfa.disabled")
        assert (entry.channel, entry.actor_user_id) == ("ui", user.pk)
        assert entry.changes == {"methods_removed": ["passkey"]}


class TestSSOConfiguration:
    VALUES = {
        "protocol": "oidc",
        "issuer": "https://idp.example.com",
        "client_id": "tater-client",
        "client_secret": "s3cret-value",
        "default_role": "member",
    }

    def test_saving_the_same_settings_writes_no_entry(self, ui) -> None:
        from accounts import sso
        from tests.factories import make_tenant

        tenant, owner, _ = make_tenant()
        sso.sso_config_save(tenant=tenant, actor=owner, values=dict(self.VALUES))
        first = AuditEvent.objects.filter(action="tenant.updated").count()
        sso.sso_config_save(tenant=tenant, actor=owner, values=dict(self.VALUES))
        sso.sso_config_save(tenant=tenant, actor=owner, values={**self.VALUES, "client_secret": ""})
        assert AuditEvent.objects.filter(action="tenant.updated").count() == first

    def test_a_change_is_recorded_without_the_secret(self, ui) -> None:
        from accounts import sso
        from tests.factories import make_tenant

        tenant, owner, _ = make_tenant()
        sso.sso_config_save(tenant=tenant, actor=owner, values=dict(self.VALUES))
        sso.sso_config_save(
            tenant=tenant, actor=owner, values={**self.VALUES, "client_secret": "n3w", "client_id": "x"}
        )
        entry = AuditEvent.objects.filter(action="tenant.updated").order_by("-pk").first()
        assert entry.changes == {
            "sso": {"client_id": {"from": "tater-client", "to": "x"}, "client_secret_changed": True}
        }
        assert "n3w" not in str(entry.changes) and "s3cret" not in str(entry.changes)


class TestInvitationReplaced:
    def test_inviting_the_same_address_again_records_the_old_invitation_going(self, world, ui) -> None:
        from orgs import members
        from orgs.models import Invitation

        def invite():
            return members.member_add_by_email(
                organization=world["org1"],
                email="new-e@example.com",
                role="member",
                actor=world["owner"],
                accept_url=lambda token: f"https://tater.example/i/{token}",
            )

        first = invite().invitation
        start = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        invite()
        assert Invitation.objects.get(pk=first.pk).revoked_at is not None
        later = AuditEvent.objects.filter(pk__gt=start)
        assert any(e.target_id == first.public_id or first.public_id in str(e.changes) for e in later)


class TestSignUpEntryTenant:
    """docs/audit.md: account events are filed under the person's home tenant. A sign-up
    entry with no tenant sits in the global chain, which no tenant's owner can read."""

    def test_self_sign_up_is_filed_under_the_new_tenant(self) -> None:
        from orgs.models import TenantMembership

        client = Client()
        response = client.post(
            "/accounts/signup/", {"email": "fresh-e@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
        )
        assert response.status_code == 302
        tenant = TenantMembership.objects.get(user__email="fresh-e@example.com").tenant
        entry = AuditEvent.objects.get(action="user.signed_up")
        assert (entry.tenant_id, entry.channel, entry.target_id) == (
            tenant.pk,
            "ui",
            get_user_model().objects.get(email="fresh-e@example.com").public_id,
        )
        assert entry.changes == {"email": {"to": "fresh-e@example.com"}}
