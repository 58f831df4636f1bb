"""``manage.py send_key_expiry_notices --days N``: a threshold of zero, a negative one or one
beyond what an expiry can be (a typo such as 99999) was a traceback (PostgreSQL's small
integer column, or Python's date range) or silently meaningless; it is a clear error, as
the other commands' bad input is (exit 1, VALIDATION_ERROR with --json)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days", ["0", "-7", "40000", "99999999999"])
def test_a_threshold_out_of_range_is_a_clear_error(days: str) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("send_key_expiry_notices", f"--days={days}", "--json", stdout=out)
    answer = json.loads(out.getvalue().strip().splitlines()[-1])
    assert answer["error"] == "VALIDATION_ERROR"
    assert "--days" in answer["message"]


def test_a_threshold_in_range_runs() -> None:
    out = io.StringIO()
    call_command("send_key_expiry_notices", "--days=90", "--json", stdout=out)
    assert "error" not in json.loads(out.getvalue().strip().splitlines()[-1])
