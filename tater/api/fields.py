"""Input fields stricter than DRF's defaults, so bad input is refused rather than coerced."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from rest_framework import serializers

from tater.api.params import ORG_PARAM, TENANT_PARAM
from tater.emails import nfkc


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into text."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# ASCII digits only: Python's int() and str.isdigit() also read other scripts' digits
# ("١٢", "１２"), surrounding whitespace, "+12", "1_2"; DRF's IntegerField adds "12.0".
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,1000}")


def whole_number(value: Any) -> int | None:
    """A whole number as the API reads one, in a body or a query: a JSON integer (never a
    boolean, never a float such as ``12.0``), or a string of the ASCII digits 0-9 alone
    (a query parameter, or a number a client sends as a JSON string), a minus sign allowed
    so that a range check names the range. None for anything else (``١٢``, ``１２``,
    ``" 12"``, ``+12``, ``1_2``, ``12.0``, ``0x0c``): one rule for every field (README, Design)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        return int(value)
    return None


class BoundedListField(serializers.ListField):
    """A list whose length is checked before its items are validated (DRF checks
    ``max_length`` after them, and names every bad item): 100,000 bad items are one short
    error, not 100,000 validations and a response of megabytes (SPEC §3, §12)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """An IntegerField that reads numbers by :func:`whole_number`, else a 400 naming it."""

    def to_internal_value(self, data: Any) -> int:
        number = whole_number(data)
        if number is None:
            self.fail("invalid")
        return int(super().to_internal_value(number))


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: DRF's BooleanField also reads "true", "yes", "on",
    1, "0", "off"..., so a typo went through as a value the client never wrote."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class EmailInput(serializers.EmailField):
    """An email as typed, NFKC-normalised before validation (SPEC §8), so a fullwidth or
    otherwise compatibility-encoded spelling is read as the address it stands for."""

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(nfkc(data) if isinstance(data, str) else data))


class RejectBlankQueryMixin:
    """Query serializers: a present-but-empty parameter is a client mistake, not "no filter"
    (DRF otherwise treats ``?type=`` as absent)."""

    def to_internal_value(self, data: Any) -> Any:
        blank = [name for name in self.fields if name in data and not str(data[name]).strip()]  # type: ignore[attr-defined]
        if blank:
            raise serializers.ValidationError({name: ["This value may not be blank."] for name in blank})
        return super().to_internal_value(data)  # type: ignore[misc]


class RejectUnknownFieldsMixin:
    """Body serializers: a field the endpoint does not take (unknown, or read-only such as
    ``is_active`` on a key PATCH) is a 400 naming it, never silently ignored (SPEC §2a)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}  # type: ignore[attr-defined]
            unknown = sorted(str(name) for name in data if name not in writable)
            if unknown:
                raise serializers.ValidationError({name: ["This field is not accepted here."] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


# The org hints (SPEC §4) are read by org resolution on every endpoint.
HINT_PARAMS = frozenset({ORG_PARAM, TENANT_PARAM})


def reject_unknown_query(query: Any, accepted: Iterable[str] = ()) -> None:
    """A query parameter the endpoint does not read is a 400 naming it, never dropped
    (SPEC §2a, §3): ``?grace_period_seconds=0`` on a rotation must not rotate with 24 hours,
    a misspelt filter or org hint must not answer as if it were absent."""
    unknown = sorted(str(name) for name in query if name not in HINT_PARAMS and name not in accepted)
    if unknown:
        raise serializers.ValidationError({name: ["This query parameter is not accepted here."] for name in unknown})


def reject_repeated_query(query: Any) -> None:
    """A query parameter sent several times with different values is a 400 naming it
    (SPEC §3), as the org hint is (SPEC §4): never the last one silently winning, so
    ``?status=active&status=revoked`` is not answered as ``?status=revoked``. The same value
    twice is one value."""
    repeated = sorted(str(name) for name, values in query.lists() if len({str(value).strip() for value in values}) > 1)
    if repeated:
        raise serializers.ValidationError(
            {name: ["Sent several times with different values: send it once."] for name in repeated}
        )


class NoBodyInput(RejectUnknownFieldsMixin, serializers.Serializer):
    """For endpoints that take no body (revoke, deactivate, activate, removing a member): a
    field sent to them is a 400 naming it (an integrator's ``reason`` must not seem
    recorded), a malformed body a 400 too."""


# Date-times the API accepts: years 1900 to 9000 (UTC). Python's datetime ends at years 1
# and 9999, so values near those ends overflow in time zone conversion and date arithmetic
# (the day after an inclusive "until", a grace period, an expiry notice): a 500. Nothing
# Tater records predates 1900 or needs a date after 9000.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
OUT_OF_RANGE = "Out of range: the year must be from 1900 to 9000 (UTC)."
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def in_datetime_range(value: datetime) -> bool:
    """Whether an aware date-time lies in the range the API accepts."""
    return EARLIEST <= value <= LATEST


class BoundedDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time from 1900 to 9000 (UTC), else a 400 naming the field; with
    ``accept_date``, a bare date (``2026-01-15``) too, as its midnight UTC. Every date-time
    a request sends (body or query) goes through this field."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE}

    def __init__(self, *, accept_date: bool = False, **kwargs: Any) -> None:
        self.accept_date = accept_date
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> datetime:
        parsed: datetime | None = None
        if self.accept_date and isinstance(value, str) and _DATE_ONLY.match(value.strip()):
            try:
                parsed = datetime.combine(date.fromisoformat(value.strip()), time.min, tzinfo=UTC)
            except ValueError:
                parsed = None  # 2026-02-30, 0000-00-00: DRF's own "wrong format" below
        if parsed is None:
            parsed = super().to_internal_value(value)
        if not in_datetime_range(parsed):
            self.fail("out_of_range")
        return parsed
