"""Limit/offset paging shared by the list endpoints."""

from __future__ import annotations

from tater.api.fields import WholeNumberField

# Deeper pages than this are refused rather than passed to the database, where an offset
# beyond a bigint is an error (found by fuzzing) and a huge one is a slow scan.
MAX_OFFSET = 1_000_000


def offset_field() -> WholeNumberField:
    return WholeNumberField(required=False, min_value=0, max_value=MAX_OFFSET, default=0)
