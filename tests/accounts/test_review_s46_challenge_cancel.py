"""Review s46: the sign-in's 2FA step had no way out (SPEC §8, §9).

After the password, an enrolled account's sign-in waits on the 2FA page. Someone who typed
the wrong account's password (a shared computer, a second account) or does not have the phone
at hand had no way back to the sign-in form: the page offered no "cancel", and the pending
sign-in stayed in the browser's session, completable by whoever next held a code. Expectations:
the page offers "Cancel / sign in as someone else" (a POST with the CSRF token); pressing it
returns to the sign-in form and the pending sign-in can no longer be completed, by a code or
a passkey; a cross-site POST (no CSRF token) cancels nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import enrol, totp_code
from tests.accounts.test_passkeys import post_json
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _cancel_form(page: Any) -> tuple[str, dict[str, str]]:
    """The page's "sign in as someone else" form: where it posts, and its hidden fields."""
    html = page.content.decode()
    forms = [f for f in re.findall(r"<form.*?</form>", html, re.S) if "someone else" in f.lower()]
    assert len(forms) == 1, html
    action = re.search(r'action="([^"]+)"', forms[0])
    assert action and re.search(r'method="post"', forms[0], re.I), forms[0]
    return action.group(1), dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', forms[0]))


def _waiting_on_the_second_step(client: Client, user: Any) -> Any:
    client.get("/accounts/login/")  # the form's CSRF cookie, as a browser gets it
    token = client.cookies["csrftoken"].value
    answer = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"] == "/accounts/2fa/challenge/"
    page = client.get("/accounts/2fa/challenge/")
    assert page.status_code == 200
    return page


def test_cancel_returns_to_sign_in_and_the_pending_sign_in_cannot_complete(clock: Any) -> None:
    user = UserFactory()
    device, codes = enrol(user, clock.now)
    browser = Client(enforce_csrf_checks=True)
    page = _waiting_on_the_second_step(browser, user)
    action, fields = _cancel_form(page)

    cancelled = browser.post(action, fields)

    assert cancelled.status_code == 302 and cancelled["Location"] == "/accounts/login/"
    assert browser.get("/accounts/2fa/challenge/")["Location"] == "/accounts/login/"
    clock.advance(30)
    token = browser.cookies["csrftoken"].value
    code = browser.post(
        "/accounts/2fa/challenge/", {"code": totp_code(device, clock.now), "csrfmiddlewaretoken": token}
    )
    assert code.status_code == 302 and code["Location"] == "/accounts/login/"
    recovery = browser.post("/accounts/2fa/challenge/", {"code": codes[0], "csrfmiddlewaretoken": token})
    assert recovery.status_code == 302 and recovery["Location"] == "/accounts/login/"
    assert browser.get("/api/v1/me").status_code == 401  # never signed in
    # The sign-in form works again, for this account or another.
    assert browser.get("/accounts/login/").status_code == 200


def test_cancel_ends_the_passkey_step_too(clock: Any) -> None:
    user = UserFactory()
    enrol(user, clock.now)
    browser = Client()
    page = _waiting_on_the_second_step(browser, user)
    action, fields = _cancel_form(page)
    browser.post(action, fields)
    begin = post_json(browser, "/accounts/2fa/challenge/passkey/begin/")
    assert begin.status_code == 400 and begin.json()["code"] == "invalid_state"


def test_a_cross_site_post_cancels_nothing(clock: Any) -> None:
    user = UserFactory()
    device, _ = enrol(user, clock.now)
    browser = Client(enforce_csrf_checks=True)
    action, _ = _cancel_form(_waiting_on_the_second_step(browser, user))

    forged = browser.post(action, {})  # no CSRF token: another site's form
    assert forged.status_code == 403

    clock.advance(30)
    token = browser.cookies["csrftoken"].value
    done = browser.post(
        "/accounts/2fa/challenge/", {"code": totp_code(device, clock.now), "csrfmiddlewaretoken": token}
    )
    assert done.status_code == 302 and done["Location"] != "/accounts/login/"
    assert browser.get("/api/v1/me").status_code == 200


def test_cancel_is_a_post(clock: Any) -> None:
    user = UserFactory()
    enrol(user, clock.now)
    browser = Client()
    action, _ = _cancel_form(_waiting_on_the_second_step(browser, user))
    assert browser.get(action).status_code == 405  # a link or a prefetch cancels nothing
    assert browser.get("/accounts/2fa/challenge/").status_code == 200
