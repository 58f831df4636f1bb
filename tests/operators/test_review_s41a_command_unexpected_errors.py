"""SPEC §10: operator commands answer ``--json`` with one JSON object, on failure too; SPEC §3's
rule for the API ("anything unexpected: INTERNAL_ERROR, no traceback") is the operators' too.
Found by review A (s41): only the errors a command expected (the services' own, a bad argument,
a database error) became that object. Anything else (an ``OverflowError`` from a date near year
9999, which ``create_api_key`` let through) escaped as a Python traceback on stderr with an
empty stdout, so a script's ``json.loads`` failed on the one answer it most needed. Such an
error is now ``{"error": "INTERNAL_ERROR", ...}`` with exit code 1; ``--traceback`` still
shows it whole, as for Django's own commands."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys import services as key_services
from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def revoke_breaks(monkeypatch: pytest.MonkeyPatch) -> str:
    tenant, owner, (org,) = make_tenant()
    key, _ = make_key(user=owner, tenant=tenant, org=org)

    def broken(**kwargs: object) -> None:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(key_services, "apikey_revoke", broken)
    return key.public_id


def test_an_unexpected_error_is_a_json_internal_error(revoke_breaks: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("revoke_api_key", revoke_breaks, "--json", stdout=out, stderr=err)
    answer = json.loads(out.getvalue())
    assert answer["error"] == "INTERNAL_ERROR", answer
    assert "OverflowError" in answer["message"] and "Traceback" not in answer["message"]
    assert raised.value.returncode == 1


def test_without_json_it_is_a_command_error_too(revoke_breaks: str) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError, match="OverflowError"):
        call_command("revoke_api_key", revoke_breaks, stdout=out)
    assert out.getvalue() == ""


def test_traceback_still_shows_the_error_itself(revoke_breaks: str) -> None:
    with pytest.raises(OverflowError):
        call_command("revoke_api_key", revoke_breaks, "--json", "--traceback", stdout=io.StringIO())
