"""A member of a tenant that requires 2FA cannot take their own second factor away.

Turning 2FA off (or removing the last passkey, which takes the recovery codes with it)
used to leave the account on its password alone; the policy then only sent the *next*
sign-in to enrolment, so whoever held the password enrolled an authenticator of their own
and reached the tenant's data. Sentry refuses to delete the last authenticator of a member
of an organization requiring 2FA, and GitHub warns that turning 2FA off removes you from
such organizations: the factor stays. Replacing a factor (another passkey, a new
authenticator app) is still possible, and operators still delete a lost device in the admin.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from accounts import services
from audit.models import AuditEvent
from orgs import services as org_services
from tests.accounts.conftest import enrol
from tests.accounts.test_passkeys import enrol_passkey, sign_in
from tests.factories import PASSWORD, add_member, make_tenant

pytestmark = pytest.mark.django_db


def _verified_member(clock: Any) -> tuple[Any, Any, Client, list[str]]:
    tenant, owner, (org,) = make_tenant()
    member = add_member(org, "member")
    _, codes = enrol(member, clock.now)
    org_services.tenant_update(tenant=tenant, actor=owner, require_2fa=True)
    client = Client()
    sign_in(client, member)
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    return tenant, member, client, codes


def test_turning_2fa_off_is_refused_while_a_tenant_requires_it(clock: Any) -> None:
    tenant, member, client, _ = _verified_member(clock)
    page = client.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert page.status_code == 200
    assert "requires two-factor authentication" in page.content.decode()
    assert services.has_2fa(member)
    assert not AuditEvent.objects.filter(action="mfa.disabled").exists()
    # The session stays verified: the member still reaches the tenant's pages.
    assert client.get("/keys/").status_code == 200


def test_turning_2fa_off_works_once_no_tenant_requires_it(clock: Any) -> None:
    tenant, member, client, _ = _verified_member(clock)
    org_services.tenant_update(tenant=tenant, actor=tenant.memberships.get(role="owner").user, require_2fa=False)
    assert client.post("/accounts/2fa/disable/", {"password": PASSWORD}).status_code == 302
    assert not services.has_2fa(member)


def test_the_last_passkey_stays_while_a_tenant_requires_2fa() -> None:
    tenant, owner, (org,) = make_tenant()
    client = Client()
    sign_in(client, owner)
    _, passkey = enrol_passkey(client)  # the first factor: the session is verified with it
    client.post("/accounts/2fa/recovery-codes/")
    org_services.tenant_update(tenant=tenant, actor=owner, require_2fa=True)

    refused = client.post(f"/accounts/passkeys/{passkey.pk}/remove/", follow=True)
    assert refused.status_code == 200
    assert "requires two-factor authentication" in refused.content.decode()
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert services.second_factor_methods(owner) == ["passkey", "recovery_code"]
    assert not AuditEvent.objects.filter(action="mfa.disabled").exists()

    # With another factor beside it, that passkey may go.
    _, second = enrol_passkey(client)
    assert client.post(f"/accounts/passkeys/{passkey.pk}/remove/").status_code == 302
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert WebAuthnCredential.objects.filter(pk=second.pk).exists()
