"""A session that steps up with a second factor (before the admin, or on the lost-phone
path with a recovery code) is recorded, as a sign-in with one is.

Before, only the failures were: a wrong step-up code wrote ``user.login_failed``, a right
one wrote nothing, so a recovery code spent on ``/accounts/2fa/verify/`` (the way into the
admin for a session that has not passed the second factor) left no trace in the Activity
Log. GitHub's security log and Sentry's audit log record second-factor authentications and
recovery-code use; SPEC §7 records sign-ins and failed sign-ins.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from tests.accounts.conftest import enrol, totp_code
from tests.accounts.test_passkeys import enrol_passkey, post_json, sign_in
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def _step_ups() -> list[Any]:
    return list(AuditEvent.objects.filter(action="mfa.verified").order_by("pk"))


def test_a_recovery_code_spent_on_the_step_up_is_recorded(clock: Any) -> None:
    tenant, owner, _ = make_tenant()
    _, codes = enrol(owner, clock.now)
    stale = Client()
    stale.force_login(owner)  # a session that has not passed the second factor
    done = stale.post("/accounts/2fa/verify/", {"code": codes[0]})
    assert done.status_code == 302
    (event,) = _step_ups()
    assert event.changes == {"method": "recovery_code"}
    assert event.tenant == tenant and event.channel == "ui"
    assert event.actor_user_id == owner.pk and event.target_id == owner.public_id


def test_a_totp_step_up_is_recorded(clock: Any) -> None:
    _, owner, _ = make_tenant()
    device, _ = enrol(owner, clock.now)
    stale = Client()
    stale.force_login(owner)
    clock.advance(30)
    stale.post("/accounts/2fa/verify/", {"code": totp_code(device, clock.now)})
    assert [e.changes for e in _step_ups()] == [{"method": "totp"}]


def test_a_passkey_step_up_is_recorded() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    other = Client()
    sign_in(other, staff)
    authenticator, _ = enrol_passkey(other)
    stale = Client()
    stale.force_login(staff)
    options = post_json(stale, "/accounts/2fa/verify/passkey/begin/").json()
    done = post_json(stale, "/accounts/2fa/verify/passkey/complete/?next=/admin/", authenticator.get(options))
    assert done.status_code == 200
    assert [e.changes for e in _step_ups()] == [{"method": "passkey"}]
