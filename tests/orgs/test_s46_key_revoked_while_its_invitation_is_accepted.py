"""SPEC §14 / docs/authorization.md (an invitation sent through a key dies with the key) and
§12 (revocation always goes through): a key revoked at the moment someone accepts an
invitation it sent. The accept holds the invitation, then writes its audit entry; the
revocation wrote its own entry (holding the tenant's audit chain), then wanted the invitation:
each waited on the other and PostgreSQL aborted one, a revocation that failed half the time.
The revocation now takes the key's invitations before its audit entry: it waits for the
accept, then revokes the key."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import members as member_services
from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory, make_key, make_tenant
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def _accept_racing(change: Any) -> tuple[list[Exception], Any, Any, Any]:
    """An invitation sent through an owner's key, accepted by its invitee while ``change(key,
    owner)`` runs (the accept paused holding the invitation, its membership and audit entry
    still to write): what either raised, the key, the org and the invitee."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    tenant, owner, (org,) = make_tenant(name="Key race", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="provisioning")
    sent: Any = APIClient().post(
        f"/api/v1/organizations/{org.public_id}/members/",
        {"email": "new.member@invited.test", "role": "member"},
        format="json",
        HTTP_X_API_KEY=raw,
    )
    assert sent.status_code == 201 and sent.json()["result"] == "invited", sent.content
    invitation = Invitation.objects.get(organization=org)
    token = "race-token"
    Invitation.objects.filter(pk=invitation.pk).update(token_digest=member_services.invitation_digest(token))
    invitee = UserFactory(email="new.member@invited.test", verified=False)
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=True, primary=True)

    errors = while_held(
        soon(lambda: member_services.invitation_accept(token=token, user=invitee)),
        soon(lambda: change(ApiKey.objects.get(pk=key.pk), owner)),
        pause_in=(member_services, "inviter_may_still_grant"),
        seconds=0.7,
    )
    return errors, key, org, invitee


def test_a_revocation_racing_an_accept_of_its_invitation_goes_through() -> None:
    errors, key, org, invitee = _accept_racing(lambda k, owner: key_services.apikey_revoke(api_key=k, actor=owner))

    assert errors == []
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert OrgMembership.objects.filter(organization=org, user=invitee).exists()  # accepted first


def test_a_deactivation_racing_an_accept_of_its_invitation_goes_through() -> None:
    errors, key, org, invitee = _accept_racing(
        lambda k, owner: key_services.apikey_set_active(api_key=k, actor=owner, active=False)
    )

    assert errors == []
    assert ApiKey.objects.get(pk=key.pk).is_active is False
    assert OrgMembership.objects.filter(organization=org, user=invitee).exists()
