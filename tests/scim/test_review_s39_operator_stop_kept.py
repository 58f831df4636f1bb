"""SCIM reactivates only an account SCIM itself deactivated (SPEC §13). Deprovisioning
deactivated Mia's account; an operator then turned it back on and off again in the admin (an
incident: the operator's stop). The IdP assigning her again must not undo the operator's stop:
the account stays inactive, and the audit entry says why."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from tests.factories import operator_client
from tests.scim.conftest import patch_op, provision

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def staff(settings: Any) -> Client:
    return operator_client(settings)


def _operator_sets_active(staff: Client, user: Any, active: bool) -> None:
    answer = staff.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "email": user.email,
            "first_name": "",
            "last_name": "",
            "is_active": "on" if active else "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "last_login_0": "",
            "last_login_1": "",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[-1500:]
    user.refresh_from_db()
    assert user.is_active is active


def test_patch_active_true_keeps_an_operators_stop(acme: Any, staff: Client) -> None:
    user_id = provision(acme, "mia@acme.test")["id"]
    mia = User.objects.get(email="mia@acme.test")
    off = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert off.status_code == 200
    mia.refresh_from_db()
    assert not mia.is_active  # deprovisioning deactivated it
    _operator_sets_active(staff, mia, True)
    _operator_sets_active(staff, mia, False)
    on = acme.scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": True}}))
    assert on.status_code == 200, on.content
    mia.refresh_from_db()
    assert not mia.is_active
    entry = AuditEvent.objects.filter(action="scim_user.reactivated", target_id=user_id).get()
    assert "account_kept_inactive" in entry.changes["effects"]


def test_post_after_delete_keeps_an_operators_stop(acme: Any, staff: Client) -> None:
    first = provision(acme, "mia@acme.test")["id"]
    mia = User.objects.get(email="mia@acme.test")
    assert acme.scim.delete(f"/Users/{first}").status_code == 204
    mia.refresh_from_db()
    assert not mia.is_active
    _operator_sets_active(staff, mia, True)
    _operator_sets_active(staff, mia, False)
    provision(acme, "mia@acme.test")
    mia.refresh_from_db()
    assert not mia.is_active


def test_without_an_operator_scim_still_reactivates_what_it_deactivated(acme: Any) -> None:
    first = provision(acme, "mia@acme.test")["id"]
    assert acme.scim.delete(f"/Users/{first}").status_code == 204
    provision(acme, "mia@acme.test")
    assert User.objects.get(email="mia@acme.test").is_active
