"""Admin actions are changes, and need the permission to change (SPEC §10, §2a on every
channel). Django offers an action without declared permissions to anyone who may *view*
the list: a help-desk operator with view-only access to keys revoked every key of every
tenant in two clicks, revoked SCIM tokens (the IdP's provisioning stops), and marked any
address verified, another operator's included (whose address changes are the superusers'
to make: an address verified decides sign-in, password reset and invitations).
"""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.test import Client

from apikeys.models import ApiKey
from audit.models import AuditEvent
from scim.models import ScimToken
from scim.services.tokens import scim_token_create
from tests.factories import UserFactory, make_key, make_tenant

pytestmark = pytest.mark.django_db
KEYS = "/admin/apikeys/apikey/"
TOKENS = "/admin/scim/scimtoken/"
ADDRESSES = "/admin/account/emailaddress/"


def operator(settings, *perms: str) -> tuple[Client, object]:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the 2FA gate has its own tests
    staff = UserFactory(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(staff)
    return client, staff


def offered(client: Client, page: str) -> list[str]:
    response = client.get(page)
    assert response.status_code == 200
    form = response.context["action_form"]
    return [value for value, _ in form.fields["action"].choices if value] if form else []


@pytest.fixture
def key() -> ApiKey:
    tenant, owner, (org,) = make_tenant()
    api_key, _ = make_key(user=owner, tenant=tenant, org=org)
    return api_key


def test_a_view_only_operator_cannot_revoke_keys(settings, key) -> None:
    viewer, _ = operator(settings, "view_apikey")
    assert "revoke_keys" not in offered(viewer, KEYS)
    viewer.post(KEYS, {"action": "revoke_keys", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is None
    assert not AuditEvent.objects.filter(action="api_key.revoked").exists()


def test_an_operator_who_may_change_keys_revokes_them_audited_as_themselves(settings, key) -> None:
    staff_client, staff = operator(settings, "view_apikey", "change_apikey")
    assert "revoke_keys" in offered(staff_client, KEYS)
    r = staff_client.post(KEYS, {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert r.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    entry = AuditEvent.objects.get(action="api_key.revoked", target_id=key.public_id)
    assert entry.channel == "admin" and entry.actor_user_id == staff.pk  # type: ignore[attr-defined]


def test_a_view_only_operator_cannot_revoke_scim_tokens(settings) -> None:
    tenant, owner, _ = make_tenant()
    token = scim_token_create(tenant=tenant, actor=owner, name="Okta").token
    viewer, _ = operator(settings, "view_scimtoken")
    assert "revoke_tokens" not in offered(viewer, TOKENS)
    viewer.post(TOKENS, {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert ScimToken.objects.get(pk=token.pk).revoked_at is None


def test_a_view_only_operator_cannot_mark_addresses_verified(settings) -> None:
    person = UserFactory()
    address = EmailAddress.objects.create(user=person, email="kim@elsewhere.test", verified=False)
    viewer, _ = operator(settings, "view_emailaddress")
    assert "make_verified" not in offered(viewer, ADDRESSES)
    viewer.post(ADDRESSES, {"action": "make_verified", "_selected_action": [address.pk]})
    address.refresh_from_db()
    assert not address.verified


def test_only_superusers_verify_another_operators_address(settings) -> None:
    other_operator = UserFactory(is_staff=True)
    theirs = EmailAddress.objects.create(user=other_operator, email="ops@elsewhere.test", verified=False)
    person = UserFactory()
    mine_to_verify = EmailAddress.objects.create(user=person, email="kim@elsewhere.test", verified=False)
    staff_client, _ = operator(settings, "view_emailaddress", "change_emailaddress")
    assert "make_verified" in offered(staff_client, ADDRESSES)
    r = staff_client.post(
        ADDRESSES, {"action": "make_verified", "_selected_action": [theirs.pk, mine_to_verify.pk]}, follow=True
    )
    assert r.status_code == 200
    theirs.refresh_from_db()
    mine_to_verify.refresh_from_db()
    assert not theirs.verified  # as its change page: the superusers'
    assert mine_to_verify.verified
    assert "ops@elsewhere.test" in r.content.decode()  # the refusal is said, not silent
