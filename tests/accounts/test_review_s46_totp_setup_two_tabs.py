"""Review s46: the authenticator's setup page open in two tabs (SPEC §8, §9).

Each visit of the setup page starts a new enrolment (a new secret, its QR code) and drops the
one before. A person with the page open in two tabs, or whose enrolment was replaced while
they confirmed, typed a code into the first tab: the page did not say which QR code it showed,
so the confirmation checked the code against whichever was newest. A code from the QR code
the tab showed got "check the time on your phone" (nothing wrong with the phone); a code
from the other tab's QR code enabled an authenticator this page never showed; and a
replacement landing while the confirmation read the device made a 500. Expectations: the
page confirms only the secret it showed; otherwise it says the QR code was replaced and shows
a fresh one, which then confirms; never a 500.
"""

from __future__ import annotations

import base64
import copy
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, UserFactory
from tests.races import while_held

pytestmark = pytest.mark.django_db
CODES = r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){5})</code>"


def _page(response: Any) -> dict[str, Any]:
    """What a person sees on a setup page: the secret behind its QR code, and the form's
    fields a browser would send back (its hidden ones)."""
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html, response.status_code
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', html)
    assert secret, html
    form = next(f for f in re.findall(r"<form.*?</form>", html, re.S) if 'name="code"' in f)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    hidden.pop("csrfmiddlewaretoken", None)
    return {"secret": secret.group(1).replace(" ", ""), "fields": hidden}


def _code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app that scanned ``secret`` shows now."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, 30, 0, 6, 0)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():06d}"


def _two_tabs() -> tuple[Any, Client, dict[str, Any], Client, dict[str, Any]]:
    user = UserFactory()
    one = Client()
    one.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    first = _page(one.get("/accounts/2fa/"))
    other = Client()
    other.cookies = copy.deepcopy(one.cookies)  # the same session, another tab
    second = _page(other.get("/accounts/2fa/"))
    assert first["secret"] != second["secret"]
    return user, one, first, other, second


def _confirm(client: Client, page: dict[str, Any], code: str) -> Any:
    return client.post("/accounts/2fa/", {**page["fields"], "code": code})


def _said_replaced(response: Any) -> bool:
    html = response.content.decode().lower()
    return "replaced" in html and "check the time on your phone" not in html


def test_a_code_for_the_other_tabs_qr_code_enables_nothing() -> None:
    user, one, first, _, second = _two_tabs()

    answer = _confirm(one, first, _code(second["secret"]))

    assert answer.status_code == 200
    assert not re.findall(CODES, answer.content.decode())  # no recovery codes: nothing enabled
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert _said_replaced(answer), answer.content.decode()
    fresh = _page(answer)  # a QR code to scan, which then confirms
    done = _confirm(one, fresh, _code(fresh["secret"]))
    assert len(re.findall(CODES, done.content.decode())) == 10
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_a_code_for_the_replaced_qr_code_says_so_and_shows_a_fresh_one() -> None:
    user, one, first, _, _ = _two_tabs()

    answer = _confirm(one, first, _code(first["secret"]))

    assert answer.status_code == 200
    assert _said_replaced(answer), answer.content.decode()
    fresh = _page(answer)
    assert fresh["secret"] != first["secret"]
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_the_qr_code_shown_still_confirms_after_a_wrong_code(clock: Any) -> None:
    _, _, _, other, second = _two_tabs()
    wrong = str((int(_code(second["secret"], clock.now)) + 1) % 1_000_000).zfill(6)
    again = _page(_confirm(other, second, wrong))
    assert again["secret"] == second["secret"]
    clock.advance(30)  # past django-otp's wait after a wrong code
    done = _confirm(other, again, _code(second["secret"], clock.now))
    assert len(re.findall(CODES, done.content.decode())) == 10


@pytest.mark.realservices
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_postgresql_only")
def test_the_enrolment_replaced_while_it_is_confirmed() -> None:
    """The first tab's confirmation pauses once it found its enrolment; the second tab
    starts another meanwhile (reload, a second window)."""
    user = UserFactory()
    one = Client()
    one.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    shown = _page(one.get("/accounts/2fa/"))
    other = Client()
    other.cookies = copy.deepcopy(one.cookies)
    answers: dict[str, Any] = {}

    def soon(name: str, call: Callable[[], Any]) -> Callable[[], None]:
        def bounded() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")
            answers[name] = call()

        return bounded

    errors = while_held(
        soon("one", lambda: _confirm(one, shown, _code(shown["secret"]))),
        soon("other", lambda: other.get("/accounts/2fa/")),
        pause_in=(TOTPDevice.objects, "select_for_update"),
    )

    assert errors == []
    assert answers["one"].status_code == 200
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert _said_replaced(answers["one"]), answers["one"].content.decode()
    # The fresh QR code is one that confirms (the enrolment in place now), not the one dropped.
    fresh = _page(answers["one"])
    assert fresh["secret"] != shown["secret"]
    done = _confirm(one, fresh, _code(fresh["secret"]))
    assert len(re.findall(CODES, done.content.decode())) == 10
