"""SPEC §14 (a leaked key is revoked at once), §2 (deactivate), docs/authorization.md (an
invitation sent through a key dies with the key; a deactivated key's invitations are on
hold): an invitation being sent through a key at the moment the key is revoked (GitHub's
alert) or deactivated (its owner). The key was checked when the request started; the
revocation withdrew the key's invitations as they stood, the one in flight not yet among
them, which was then written pending: the finder of a leaked key who kept inviting their own
address got a working link from a key already dead. Now the invitation is sent under the key
(the revocation or deactivation waits for it and takes it along), or refused once it is."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import members as member_services
from orgs.models import Invitation
from tests.factories import make_key, make_tenant
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def _invite(org: Any, raw: str) -> Any:
    return APIClient().post(
        f"/api/v1/organizations/{org.public_id}/members/",
        {"email": "finder@elsewhere.test", "role": "member"},
        format="json",
        HTTP_X_API_KEY=raw,
    )


def _race(change: str) -> tuple[Any, list[Exception]]:
    tenant, owner, (org,) = make_tenant(name=f"Invite while {change}", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="ci")

    def kill() -> None:
        api_key = ApiKey.objects.get(pk=key.pk)
        if change == "revoked":
            key_services.apikey_revoke(api_key=api_key, actor=None, reason="leaked")
        else:
            key_services.apikey_set_active(api_key=api_key, actor=owner, active=False)

    errors = while_held(
        # paused once the key was checked, the invitation still to write
        soon(lambda: _invite(org, raw)),
        soon(kill),
        pause_in=(member_services, "account_holding"),
        seconds=0.7,
    )
    return org, errors


def _acceptable(org: Any) -> list[Invitation]:
    open_ones = Invitation.objects.filter(organization=org, accepted_at__isnull=True, revoked_at__isnull=True)
    return [i for i in open_ones if not i.key_deactivated]


def test_an_invitation_sent_as_the_key_is_revoked_is_withdrawn_with_it() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    org, errors = _race("revoked")
    assert errors == []
    assert ApiKey.objects.get(organization=org).revoked_at is not None
    assert _acceptable(org) == []


def test_an_invitation_sent_as_the_key_is_deactivated_is_on_hold() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    org, errors = _race("deactivated")
    assert errors == []
    assert ApiKey.objects.get(organization=org).is_active is False
    assert _acceptable(org) == []


def test_an_invitation_resent_as_the_key_is_revoked_is_withdrawn_with_it() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    tenant, owner, (org,) = make_tenant(name="Resend while revoked", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="ci")
    sent = member_services.member_add_by_email(
        organization=org, email="someone@elsewhere.test", role="member", actor=owner, accept_url=lambda t: t
    )
    assert sent.invitation is not None
    path = f"/api/v1/organizations/{org.public_id}/invitations/{sent.invitation.public_id}/resend/"

    errors = while_held(
        soon(lambda: APIClient().post(path, format="json", HTTP_X_API_KEY=raw)),
        soon(lambda: key_services.apikey_revoke(api_key=ApiKey.objects.get(pk=key.pk), actor=None, reason="leaked")),
        pause_in=(member_services, "as_actor"),
        seconds=0.7,
    )

    assert errors == []
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    # Resent from a dead key it would carry a new link on the key's word: withdrawn with it,
    # or (the revocation first) not resent, the session's invitation standing as it was.
    invitation = Invitation.objects.get(pk=sent.invitation.pk)
    assert invitation.revoked_at is not None or invitation.sent_through_key_pk is None
