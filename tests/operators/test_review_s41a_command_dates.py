"""SPEC §10 (commands with ``--json``), §3 ("dates out of range (400)"), §2 (one key model on
every channel). Found by review A (s41), as an operator scripting ``create_api_key``:

- ``--expires-at 9999-12-31T23:59:59-14:00`` (a valid ISO 8601 time, its UTC value in year
  10000) crashed with Python's ``OverflowError`` traceback and an empty stdout, so a script's
  ``json.loads`` failed instead of reading the error;
- ``--expires-at 9500-01-01T00:00:00+00:00`` or ``--expires-in 2900000d`` made a key expiring in
  a year the API refuses (its date-times run from 1900 to 9000, UTC: beyond that, a grace
  period, an expiry notice or a lifetime cap overflows later, far from the command).

Both are now the API's ``VALIDATION_ERROR`` with its message, and no key is made."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import ApiKey
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def refused(*args: str) -> dict:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.parametrize(
    "expiry",
    [
        ["--expires-at", "9999-12-31T23:59:59-14:00"],  # year 10000 in UTC
        ["--expires-at", "9500-01-01T00:00:00+00:00"],
        ["--expires-in", "2900000d"],  # about year 9900
        ["--expires-at", "0001-01-01T00:00:00+14:00"],  # before year 1 in UTC
    ],
    ids=lambda args: " ".join(args),
)
def test_an_expiry_out_of_the_apis_range_is_a_json_validation_error(expiry: list[str]) -> None:
    tenant, owner, (org,) = make_tenant()
    args = ["--user", owner.email, "--tenant", tenant.public_id, "--org", org.public_id]
    answer = refused("create_api_key", *args, *expiry)
    assert answer["error"] == "VALIDATION_ERROR", answer
    assert "1900 to 9000" in answer["message"], answer
    assert not ApiKey.objects.exists()


def test_guard_an_expiry_in_range_still_makes_the_key() -> None:
    tenant, owner, (org,) = make_tenant()
    out = io.StringIO()
    call_command(
        "create_api_key",
        *("--user", owner.email, "--tenant", tenant.public_id, "--org", org.public_id),
        *("--expires-at", "8999-12-31T23:59:59+00:00", "--json"),
        stdout=out,
    )
    assert json.loads(out.getvalue())["expires_at"].startswith("8999-12-31")
