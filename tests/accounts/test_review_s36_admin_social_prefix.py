"""An operator's sign-in app (Google, Microsoft, a global OpenID Connect app) may not take a
provider id of the ``tenant-`` kind: those ids name a tenant's own identity provider, set
only through that tenant's SSO configuration. An app added (or renamed) under such an id in
the admin could answer the sign-ins routed to the tenant's provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from allauth.socialaccount.models import SocialApp
from django.test import Client

from audit.models import AuditEvent
from tests.accounts.conftest import Clock, enrol
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/socialaccount/socialapp/add/"
OIDC = {
    "provider": "openid_connect",
    "name": "Corp IdP",
    "client_id": "c",
    "secret": "s",
    "key": "",
    "settings": '{"server_url": "https://idp.example.com"}',
}


@pytest.fixture
def operator() -> Iterator[Client]:
    clock = Clock()
    with mock.patch("django_otp.plugins.otp_totp.models.time.time", clock):
        staff = UserFactory(is_staff=True, is_superuser=True)
        _, codes = enrol(staff, clock.now)
        client = Client(raise_request_exception=False)
        client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
        assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
        yield client


@pytest.mark.parametrize("provider_id", ["tenant-0123456789abcdef", "tenant-", "tenant-mine"])
def test_adding_an_app_under_a_tenant_provider_id_is_refused(operator: Client, provider_id: str) -> None:
    response = operator.post(ADD, {**OIDC, "provider_id": provider_id})
    assert response.status_code == 200  # the form again, with the error on the field
    page = response.content.decode()
    assert "reserved" in page and "SSO configuration" in page
    assert not SocialApp.objects.filter(provider_id=provider_id).exists()
    assert not AuditEvent.objects.filter(action__startswith="sso_app.").exists()


def test_renaming_an_app_to_a_tenant_provider_id_is_refused(operator: Client) -> None:
    app = SocialApp.objects.create(provider="openid_connect", provider_id="corp", name="Corp", client_id="c")
    url = f"/admin/socialaccount/socialapp/{app.pk}/change/"
    response = operator.post(url, {**OIDC, "provider_id": "tenant-0123456789abcdef", "secret": ""})
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    app.refresh_from_db()
    assert app.provider_id == "corp"
    assert not AuditEvent.objects.filter(action__startswith="sso_app.").exists()


def test_an_ordinary_provider_id_still_saves(operator: Any) -> None:
    response = operator.post(ADD, {**OIDC, "provider_id": "corp-idp"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert SocialApp.objects.filter(provider_id="corp-idp").exists()
    assert AuditEvent.objects.filter(action="sso_app.created").count() == 1
