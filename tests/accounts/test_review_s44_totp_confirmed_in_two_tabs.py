"""Review s44 (F): a new authenticator app confirmed in two tabs at once (SPEC §8, §9).

The person opens the setup page, scans the QR code, and submits a code in one tab and the next
code in another (or presses Verify again after the code rolled over). Each confirmation checked
its code, then deleted the account's confirmed authenticators and confirmed its own: the
second deleted the device the first had just confirmed, then its save found no row (a 500),
after the first tab had shown recovery codes of a set the second then replaced. Expectations:
one confirmation wins (its page shows the recovery codes, which work); the other is sent back
to the two-factor page with a message, and the account has one authenticator app.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from tests.accounts.conftest import setup_form, totp_code
from tests.factories import PASSWORD, UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
CODES = r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){5})</code>"


def test_confirming_the_same_new_authenticator_in_two_tabs() -> None:
    user = UserFactory()
    one = Client()
    one.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    page = one.get("/accounts/2fa/")
    assert page.status_code == 200  # the QR code
    form = setup_form(page)
    other = Client()
    other.cookies = copy.deepcopy(one.cookies)  # the same session, another tab
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    now = time.time()
    answers: dict[str, Any] = {}

    def confirm(tab: str, client: Client, code: str) -> Callable[[], None]:
        return soon(lambda: answers.__setitem__(tab, client.post("/accounts/2fa/", {**form, "code": code})))

    # The first tab pauses once its code is accepted, about to confirm its device.
    errors = while_held(
        confirm("one", one, totp_code(device, now)),
        confirm("other", other, totp_code(device, now + 30)),
        pause_in=(services, "second_factor_methods"),
    )

    assert errors == []
    statuses = sorted(answer.status_code for answer in answers.values())
    assert statuses == [200, 302], statuses
    won = next(answer for answer in answers.values() if answer.status_code == 200)
    lost = next(answer for answer in answers.values() if answer.status_code == 302)
    codes = re.findall(CODES, won.content.decode())
    assert len(codes) == 10
    assert lost["Location"] == "/accounts/2fa/"
    said = " ".join(str(m) for m in get_messages(lost.wsgi_request))
    assert "another tab" in said, said
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert services.verify_second_factor(user=user, code=codes[0]) is not None
