"""Session 44 review: a careless line that logs a form, a request body or a dict never
carries the password or token in it (SPEC §12: "no secret ever appears in them").

The formatters replace ``password=…``-style pairs (tater/operations/logs.py), but only for
a bare name followed by a bare or quoted word: a ``QueryDict`` (``request.POST``, a form's
``data``) writes ``'password': ['hunter2']`` and the value after the bracket was kept;
names with a prefix (``new_password1`` and ``old_password`` of Django's password change
form, OAuth's ``client_secret``, ``access_token`` and ``refresh_token``) were not
recognised at all; and a passphrase with a space lost only its first word. [was failing;
fixed]
"""

from __future__ import annotations

import json
import logging
import secrets

import pytest
from django.http import QueryDict

from tests.operations.conftest import CapturedLogs

logger = logging.getLogger("tater.test")


def _word() -> str:
    """A password a person picks: lowercase letters, nothing the token patterns recognise."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12))


def test_forms_and_bodies_logged_carelessly_keep_their_secrets(captured_logs: CapturedLogs) -> None:
    secret = {name: _word() for name in ("old", "new", "current", "client", "access", "refresh", "code")}
    passphrase = f"correct {_word()}, battery 'staple'"
    escaped = f'my "{_word()}" pass'

    # allauth's change-password form and Django's admin one, as request.POST.
    allauth_post = QueryDict(mutable=True)
    allauth_post.update({"oldpassword": secret["old"], "password1": secret["new"], "password2": secret["new"]})
    admin_post = QueryDict(mutable=True)
    admin_post.update({"old_password": secret["current"], "new_password1": secret["new"]})
    logger.warning("password change refused: %s", allauth_post)
    logger.warning("admin form data: %s", admin_post)
    logger.warning("body: %s", admin_post.urlencode())
    # DRF's request.data (a dict) and a JSON body, a passphrase with spaces and quotes.
    logger.warning("sign-in payload %s", {"email": "a@example.com", "password": passphrase})
    logger.warning("raw body %s", json.dumps({"email": "a@example.com", "password": escaped}))
    # An OAuth token exchange and its answer.
    logger.warning(
        "token exchange: grant_type=authorization_code&code=%s&client_id=tater&client_secret=%s",
        secret["code"],
        secret["client"],
    )
    logger.warning(
        "provider answered %s",
        json.dumps({"access_token": secret["access"], "refresh_token": secret["refresh"], "token_type": "Bearer"}),
    )

    text = captured_logs.everything()
    leaked = sorted(s for s in (*secret.values(), passphrase, escaped) if s in text)
    assert not leaked, f"secrets in the logs: {leaked}"
    for fragment in (*passphrase.split(), escaped.split('"')[1]):
        if len(fragment) > 8:
            assert fragment not in text, fragment
    # What is no secret stays readable.
    lines = [line["message"] for line in captured_logs.json_lines()]
    assert "a@example.com" in lines[3] and "client_id=tater" in lines[5] and "grant_type=authorization_code" in lines[5]
    assert len(lines) == 7


@pytest.mark.parametrize(
    "line",
    [
        "secret scanning: 2 token(s) from GitHub, 1 true positive(s)",
        "token_count=3 password_changed=True",
        "GET /accounts/password/change/ 302 4.0ms",
        "readiness: redis is down: ConnectionError: Error 111 connecting to 10.0.2.5:6379.",
    ],
)
def test_lines_without_a_secret_are_kept(captured_logs: CapturedLogs, line: str) -> None:
    logger.warning(line)
    assert [entry["message"] for entry in captured_logs.json_lines()] == [line]
