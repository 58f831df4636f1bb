"""README decision "a Redis outage never blocks revocation" (revoking, deactivating a key and
removing a member are admitted even when limits fail closed; a role change waits) and SPEC §12:
an invitation sent to the wrong address is access waiting to be taken. With limits failing
closed and Redis down, ``DELETE organizations/{id}/invitations/{invitation_id}/`` answered 503
and the emailed link kept working until the store came back. Withdrawing it gets through the outage now; resending (a new link, access
given again) waits like a role change."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from audit.models import AuditEvent
from orgs.models import Invitation
from tater import redis_client
from tests.redis_servers import free_port

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_down_failing_closed() -> Any:
    redis_client.reset_client()
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", TATER_RATELIMIT_FAIL_OPEN=False):
        yield
    redis_client.reset_client()


def _sent_invitation(world: dict[str, Any]) -> Invitation:
    token = secrets.token_urlsafe(32)  # as the emailed link carries it; never a literal here
    return Invitation.objects.create(
        organization=world["org1"],
        email="wrong-address@example.com",
        role="member",
        token_digest=hashlib.sha256(token.encode()).hexdigest(),
        invited_by=world["owner"],
        expires_at=timezone.now() + timedelta(hours=72),
    )


def test_withdrawing_an_invitation_gets_through_the_outage(
    api: Any, world: dict[str, Any], redis_down_failing_closed: Any
) -> None:
    invitation = _sent_invitation(world)
    api.raise_request_exception = False
    owner = {"HTTP_X_API_KEY": world["owner_raw"]}
    url = f"/api/v1/organizations/{world['org1'].public_id}/invitations/{invitation.public_id}/"
    assert api.get(f"/api/v1/organizations/{world['org1'].public_id}/members/", **owner).status_code == 503
    # Sending it again gives access again: it waits for the store.
    assert api.post(f"{url}resend/", **owner).status_code == 503
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    r = api.delete(url, **owner)
    assert r.status_code == 204, r.content
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert AuditEvent.objects.filter(action="member.invitation_revoked", target_id=invitation.public_id).exists()
