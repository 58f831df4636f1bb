"""Review s46: "Generate recovery codes" pressed twice at once (SPEC §8 single-use recovery
codes, §12).

An account whose second factor is a passkey has no recovery codes; the security page offers
"Generate recovery codes". A double click (or two tabs) sent two requests at once: each found
no codes to replace and made a set of its own, so the account ended with twenty working codes,
ten of them in a page the browser never showed (nobody saved them, nobody can see they exist:
the page counts one set). Expectations: one set works at the end, ten codes, the set on the
page shown last.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from accounts import services
from accounts.models import RecoveryCodeDevice
from tests.accounts.test_passkeys import post_json, sign_in, user_with_passkey
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
CODES = r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){5})</code>"


def test_generating_the_first_recovery_codes_twice_at_once_leaves_one_set() -> None:
    _, user, authenticator = user_with_passkey()
    browser = Client()
    sign_in(browser, user)
    options = post_json(browser, "/accounts/2fa/challenge/passkey/begin/").json()
    assert (
        post_json(browser, "/accounts/2fa/challenge/passkey/complete/", authenticator.get(options)).status_code == 200
    )
    assert "Generate recovery codes" in browser.get("/accounts/security/").content.decode()
    tab = Client()
    tab.cookies = copy.deepcopy(browser.cookies)
    pages: dict[str, Any] = {}

    def press(name: str, client: Client) -> Callable[[], Any]:
        return soon(lambda: pages.__setitem__(name, client.post("/accounts/2fa/recovery-codes/")))

    errors = while_held(press("first", browser), press("second", tab), pause_in=(RecoveryCodeDevice.objects, "create"))

    assert errors == []
    shown = {name: re.findall(CODES, page.content.decode()) for name, page in pages.items()}
    assert all(len(codes) == 10 for codes in shown.values()), {n: p.status_code for n, p in pages.items()}
    assert "10 unused recovery codes" in browser.get("/accounts/2fa/").content.decode()
    working = []
    for name, codes in shown.items():
        time.sleep(1.2)  # past django-otp's wait after a refused code
        if services.verify_second_factor(user=user, code=codes[0]) is not None:
            working.append(name)
    assert len(working) == 1, working  # one set, never a second one nobody saw
