"""Review s44 (C): a recovery code used at the instant the codes are regenerated (SPEC §8, §12).

The person learns their printed codes were seen and makes a new set, on their laptop, at the
moment someone answers a sign-in with one of the old codes (or the person themselves, on
another device). django-otp's check locked the codes' device row, then marked the code used;
the regeneration deleted the codes, then their device: each waited for the other and
PostgreSQL aborted one ("deadlock detected", a 500). Expectations: both finish; the old code
is accepted only if it came first, and the new set works.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts import services
from accounts.models import RecoveryCodeDevice
from tests.accounts.conftest import enrol
from tests.factories import UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


@pytest.mark.parametrize("first", ["sign_in", "regenerate"])
def test_a_recovery_code_used_while_the_codes_are_regenerated(first: str) -> None:
    user = UserFactory()
    _device, old_codes = enrol(user)
    outcomes: dict[str, Any] = {}

    def sign_in() -> None:
        outcomes["sign_in"] = services.verify_second_factor(user=user, code=old_codes[0])

    def regenerate() -> None:
        outcomes["regenerate"] = services.recovery_codes_regenerate(user=user)

    calls = {"sign_in": soon(sign_in), "regenerate": soon(regenerate)}
    # Each pauses once it holds what it locks first: the check its device, the regeneration
    # the codes it deleted.
    pause = (RecoveryCodeDevice, "verify_token") if first == "sign_in" else (RecoveryCodeDevice.objects, "create")
    second = "regenerate" if first == "sign_in" else "sign_in"
    errors = while_held(calls[first], calls[second], pause_in=pause)

    assert errors == []
    assert (outcomes["sign_in"] is not None) == (first == "sign_in")
    assert services.verify_second_factor(user=user, code=outcomes["regenerate"][0]) is not None
    assert services.verify_second_factor(user=user, code=old_codes[1]) is None
