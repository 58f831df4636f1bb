"""Audit completeness in the admin (SPEC §7: every write through any channel): allauth's own
admin pages for sign-in apps and linked SSO identities wrote without an entry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.test import Client

from accounts import sso
from audit.models import AuditEvent
from tests.accounts.conftest import Clock, enrol
from tests.factories import PASSWORD, UserFactory, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock()
    with mock.patch("django_otp.plugins.otp_totp.models.time.time", c):
        yield c


@pytest.fixture
def operator(clock: Clock) -> tuple[Any, Client]:
    staff = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(staff, clock.now)
    client = Client(raise_request_exception=False)
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    assert client.get("/admin/").status_code == 200
    return staff, client


GOOGLE = {"provider": "google", "provider_id": "", "name": "Google", "client_id": "g-client", "settings": "{}"}


def test_adding_a_sign_in_app_is_recorded_without_its_secret(operator) -> None:
    staff, client = operator
    response = client.post("/admin/socialaccount/socialapp/add/", {**GOOGLE, "secret": "g-secret-value", "key": ""})
    assert response.status_code == 302, response.content.decode()[-1500:]
    entry = AuditEvent.objects.get(action="sso_app.created")
    assert (entry.channel, entry.actor_user_id, entry.tenant_id) == ("admin", staff.pk, None)
    assert entry.changes["provider"] == {"from": None, "to": "google"}
    assert entry.changes["client_id"] == {"from": None, "to": "g-client"}
    assert entry.changes["secret_changed"] is True
    assert "g-secret-value" not in str(entry.changes)


def test_changing_and_deleting_a_sign_in_app_is_recorded(operator) -> None:
    staff, client = operator
    app = SocialApp.objects.create(provider="google", name="Google", client_id="g-client", secret="old")
    url = f"/admin/socialaccount/socialapp/{app.pk}/change/"
    assert client.post(url, {**GOOGLE, "client_id": "g-client-2", "secret": ""}).status_code == 302
    entry = AuditEvent.objects.get(action="sso_app.updated")
    assert entry.changes == {"client_id": {"from": "g-client", "to": "g-client-2"}}
    app.refresh_from_db()
    assert app.secret == "old"  # an empty secret field keeps the stored secret
    assert client.post(f"/admin/socialaccount/socialapp/{app.pk}/delete/", {"post": "yes"}).status_code == 302
    gone = AuditEvent.objects.get(action="sso_app.deleted")
    assert (gone.channel, gone.actor_user_id, gone.changes["provider"]) == ("admin", staff.pk, "google")


def test_the_app_page_never_shows_a_secret(operator) -> None:
    _, client = operator
    app = SocialApp.objects.create(provider="google", name="Google", client_id="g", secret="shown-never-123")
    assert "shown-never-123" not in client.get(f"/admin/socialaccount/socialapp/{app.pk}/change/").content.decode()


def test_a_tenant_sso_app_changes_only_through_its_sso_configuration(operator) -> None:
    _, client = operator
    tenant, owner, _ = make_tenant()
    config = sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={"protocol": "oidc", "issuer": "https://idp.example.com", "client_id": "c", "client_secret": "s"},
    )
    app = SocialApp.objects.get(provider_id=config.provider_id)
    data = {**GOOGLE, "provider": "openid_connect", "provider_id": app.provider_id, "client_id": "evil"}
    client.post(f"/admin/socialaccount/socialapp/{app.pk}/change/", data)
    client.post(f"/admin/socialaccount/socialapp/{app.pk}/delete/", {"post": "yes"})
    app.refresh_from_db()
    assert app.client_id == "c"


def test_unlinking_an_sso_identity_is_recorded(operator) -> None:
    staff, client = operator
    tenant, owner, _ = make_tenant()
    link = SocialAccount.objects.create(user=owner, provider="google", uid="g-123")
    response = client.post(f"/admin/socialaccount/socialaccount/{link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEvent.objects.get(action="user.sso_unlinked")
    assert (entry.channel, entry.actor_user_id, entry.tenant_id) == ("admin", staff.pk, tenant.pk)
    assert (entry.target_id, entry.changes) == (owner.public_id, {"provider": "google", "uid": "g-123"})


def test_unlinking_is_undone_when_its_entry_fails(operator) -> None:
    _, client = operator
    _, owner, _ = make_tenant()
    link = SocialAccount.objects.create(user=owner, provider="google", uid="g-123")
    with mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down")):
        response = client.post(f"/admin/socialaccount/socialaccount/{link.pk}/delete/", {"post": "yes"})
    assert response.status_code == 500
    assert SocialAccount.objects.filter(pk=link.pk).exists()


def test_operators_link_no_identity_by_hand(operator) -> None:
    """SPEC §8: an identity is linked only by its IdP sign-in (the tenant's rules) or by the
    account's owner; an operator typing a provider and subject would take the account over."""
    _, client = operator
    _, owner, _ = make_tenant()
    response = client.post(
        "/admin/socialaccount/socialaccount/add/",
        {"user": owner.pk, "provider": "google", "uid": "attacker", "extra_data": "{}"},
    )
    assert response.status_code == 403
    assert not SocialAccount.objects.exists()


class TestUserDisconnectsAnIdentity:
    """The account's own "Connected identity providers" page (allauth's, under /accounts/3rdparty/)."""

    def setup_link(self) -> tuple[Any, SocialAccount, Client]:
        _, owner, _ = make_tenant()
        SocialApp.objects.create(provider="google", name="Google", client_id="g", secret="s")
        link = SocialAccount.objects.create(user=owner, provider="google", uid="g-456")
        client = Client(raise_request_exception=False)
        assert client.post("/accounts/login/", {"login": owner.email, "password": PASSWORD}).status_code == 302
        assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
        return owner, link, client

    def test_disconnecting_is_recorded(self) -> None:
        owner, link, client = self.setup_link()
        assert client.post("/accounts/3rdparty/", {"account": link.pk}).status_code == 302
        assert not SocialAccount.objects.filter(pk=link.pk).exists()
        entry = AuditEvent.objects.get(action="user.sso_unlinked")
        assert (entry.channel, entry.actor_user_id, entry.target_id) == ("ui", owner.pk, owner.public_id)
        assert entry.changes == {"provider": "google", "uid": "g-456"}

    def test_disconnecting_is_undone_when_its_entry_fails(self) -> None:
        _, link, client = self.setup_link()
        with mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down")):
            assert client.post("/accounts/3rdparty/", {"account": link.pk}).status_code == 500
        assert SocialAccount.objects.filter(pk=link.pk).exists()


class TestEmailMarkedVerifiedByAnOperator:
    """The admin's "Mark as verified" action (allauth's): an admin action runs outside the
    transaction Django gives the change and delete pages."""

    def address(self) -> Any:
        from allauth.account.models import EmailAddress

        _, owner, _ = make_tenant()
        return EmailAddress.objects.create(user=owner, email="unproven-e@example.com", verified=False)

    def post(self, client: Client, address: Any) -> Any:
        return client.post(
            "/admin/account/emailaddress/",
            {"action": "make_verified", "_selected_action": [address.pk], "index": 0},
        )

    def test_marking_verified_is_recorded(self, operator) -> None:
        staff, client = operator
        address = self.address()
        assert self.post(client, address).status_code == 302
        address.refresh_from_db()
        assert address.verified
        entry = AuditEvent.objects.get(action="user.email_changed")
        assert (entry.channel, entry.actor_user_id) == ("admin", staff.pk)
        assert entry.changes == {"verified": "unproven-e@example.com"}

    def test_marking_verified_is_undone_when_its_entry_fails(self, operator) -> None:
        _, client = operator
        address = self.address()
        with mock.patch("audit.chain.link", side_effect=RuntimeError("audit store down")):
            assert self.post(client, address).status_code == 500
        address.refresh_from_db()
        assert not address.verified
