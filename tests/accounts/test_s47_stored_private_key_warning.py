"""SPEC §10 (operators) and §8 (SAML): a private key saved as an IdP signing certificate before
the check refused one stays in the database until an operator runs ``manage.py
clear_sso_private_keys`` (docs/accounts.md), and only the README said so: nothing told an
operator upgrading that their database held such a key. ``manage.py check --database default``
(which ``migrate`` runs) now warns, naming the command, until it is run."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.accounts.test_review_s47_private_key_replaced import stored_private_key

pytestmark = pytest.mark.django_db


def check_output() -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("check", "--database", "default", stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_a_stored_private_key_is_warned_of_until_cleared() -> None:
    assert "clear_sso_private_keys" not in check_output()
    stored_private_key()
    warned = check_output()
    assert "accounts.W001" in warned and "clear_sso_private_keys" in warned, warned
    call_command("clear_sso_private_keys", stdout=io.StringIO())
    assert "clear_sso_private_keys" not in check_output()
