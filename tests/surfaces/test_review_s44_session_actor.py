"""Who the audit log names on the seed systems' paths (SPEC §5a "served by the same core", §7
"who"): a browser session that happens to travel with a request to a path that reads no
session (Taffy's ``/auth/token``, Tatry's and taap.it's key-only paths) is no actor of it.
The same request records the same entry as on ``/api/v1/``, where the session of a
bystander is never taken for the one who acted. Expectations come from the SPEC."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.surfaces.conftest import bearer

pytestmark = pytest.mark.django_db


def _signed_in(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _entries(action: str) -> list[tuple[Any, str, str]]:
    return list(
        AuditEvent.objects.filter(action=action)
        .order_by("created_at", "pk")
        .values_list("actor_user_id", "actor_email", "channel")
    )


def test_a_failed_taffy_exchange_is_not_put_on_the_signed_in_bystander(world):
    """The member's browser posts the owner's address with a wrong password: the failed sign-in
    is the owner's account's, recorded as the core's exchange records the same request."""
    member, owner = world["member"], world["owner"]
    client = _signed_in(member)
    assert client.post("/auth/token", {"username": owner.email, "password": "wrong"}, format="json").status_code == 401
    assert (
        client.post("/api/v1/auth/token", {"email": owner.email, "password": "wrong"}, format="json").status_code == 401
    )
    taffy, core = _entries("user.login_failed")
    assert taffy[0] != member.pk, "the failed sign-in of the owner's account is attributed to the member"
    assert taffy == core


def test_a_lockout_tripped_on_tatry_is_not_put_on_the_signed_in_bystander(world):
    """Bad keys beside a browser session lock the client address out: the auth.locked_out entry
    names no user, as when the same guesses trip it on /api/v1/."""
    member = world["member"]
    guess = "tater_" + "0" * 32
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=2):
        client = _signed_in(member)
        for _ in range(2):
            client.get("/v1/auth/validate", **bearer(guess))
        client.logout()
    assert client.get("/v1/auth/validate", **bearer(world["owner_raw"])).status_code == 200
    locked = _entries("auth.locked_out")
    assert locked, "no auth.locked_out entry"
    assert all(actor_user is None for actor_user, _, _ in locked), locked
