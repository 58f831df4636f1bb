"""README's configuration table: ``LOG_LEVEL`` and ``ACCOUNT_EMAIL_VERIFICATION`` take a
few named values. ``LOG_LEVEL=LOUD`` or ``ACCOUNT_EMAIL_VERIFICATION=always`` stopped the
start with a bare ValueError from deep inside logging or allauth that named no variable;
now the start stops naming the variable and the values it takes, as a bad number or on/off
value does. The documented values (any case for the level) still start."""

from __future__ import annotations

import pytest

from tests.tater.starting import refusal, start


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "LOUD"), ("ACCOUNT_EMAIL_VERIFICATION", "always")])
def test_a_value_outside_the_list_stops_the_start_naming_it(name: str, value: str) -> None:
    done = start(**{name: value})
    assert done.returncode != 0 and "started" not in done.stdout
    last = refusal(done)
    assert last.startswith("django.core.exceptions.ImproperlyConfigured") and name in last, last


@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "warning"), ("ACCOUNT_EMAIL_VERIFICATION", "mandatory")])
def test_the_documented_valuesstart(name: str, value: str) -> None:
    done = start(**{name: value})
    assert done.returncode == 0 and "started" in done.stdout, done.stderr
