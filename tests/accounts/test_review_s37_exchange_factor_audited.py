"""The credential exchange records the second factor it spent.

``POST /api/v1/auth/token`` (and Taffy's ``/auth/token``) takes a TOTP code or a recovery
code beside the password. A JSON or UI sign-in records which one (``user.login``
changes.method); the exchange wrote only ``api_key.created``, so a recovery code spent
there (single use: one of ten) left no trace, and when the exchange was then refused (the
tenant's policy) nothing at all was recorded although the code was gone. GitHub's security
log and Sentry's audit log record recovery-code use.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, add_member, make_tenant

pytestmark = pytest.mark.django_db


def _exchange(path: str, body: dict[str, Any]) -> Any:
    return APIClient().post(path, body, format="json")


def test_a_recovery_code_spent_on_the_exchange_is_recorded(clock: Any) -> None:
    tenant, owner, _ = make_tenant()
    _, codes = enrol(owner, clock.now)
    done = _exchange("/api/v1/auth/token", {"email": owner.email, "password": PASSWORD, "code": codes[0]})
    assert done.status_code == 201
    (event,) = AuditEvent.objects.filter(action="mfa.verified")
    assert event.changes == {"method": "recovery_code", "via": "credential_exchange"}
    assert event.channel == "api" and event.tenant == tenant and event.actor_user_id == owner.pk


def test_the_spent_code_is_recorded_even_when_the_exchange_is_refused(clock: Any) -> None:
    tenant, _, (org,) = make_tenant()
    member = add_member(org, "member")  # the default policy lets owners only exchange
    _, codes = enrol(member, clock.now)
    refused = _exchange("/auth/token", {"username": member.email, "password": PASSWORD, "code": codes[0]})
    assert refused.status_code == 403
    (event,) = AuditEvent.objects.filter(action="mfa.verified")
    assert event.changes == {"method": "recovery_code", "via": "credential_exchange"}


def test_a_totp_code_on_the_exchange_is_recorded(clock: Any) -> None:
    _, owner, _ = make_tenant()
    device, _ = enrol(owner, clock.now)
    clock.advance(30)
    code = totp_code(device, clock.now)
    assert (
        _exchange("/api/v1/auth/token", {"email": owner.email, "password": PASSWORD, "code": code}).status_code == 201
    )
    assert [e.changes["method"] for e in AuditEvent.objects.filter(action="mfa.verified")] == ["totp"]
