"""Review s43 (B): `manage.py addstatictoken` no longer locks a person out, unaudited.

SPEC §8 (2FA is a TOTP app and Tater's single-use recovery codes, passkeys beside them: §13),
§7 (every write through any channel is audited), §10 (operators' `manage.py` commands).
django-otp's static-token plugin was installed though Tater never used it (its recovery codes
are its own, stored hashed), so `manage.py help` offered its `addstatictoken`: an operator
following django-otp's docs to "give the person a backup code" created a device no sign-in
accepts. The account then counted as having 2FA, so signing in asked for a code, and the
printed token was refused: the person could no longer sign in, and the audit log said nothing
(no `mfa.enabled`, no notice to its owner)."""

from __future__ import annotations

import contextlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


def _addstatictoken(email: str) -> str:
    out = io.StringIO()
    with contextlib.suppress(CommandError):  # not offered is fine; what it leaves behind is not
        call_command("addstatictoken", email, stdout=out)
    return out.getvalue().strip()


def test_a_person_without_2fa_still_signs_in_with_the_password_alone() -> None:
    _, person, _ = make_tenant()

    _addstatictoken(person.email)

    client = Client()
    step = client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    assert step.status_code == 302 and step["Location"] != "/accounts/2fa/challenge/"
    assert client.get("/api/v1/me").json()["two_factor"]["enabled"] is False
    json_sign_in = Client().post(
        "/api/v1/auth/login", {"email": person.email, "password": PASSWORD}, content_type="application/json"
    )
    assert json_sign_in.json().get("requires2FA") is not True
