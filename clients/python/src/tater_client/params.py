"""What the resource classes need from the client, kept apart so neither imports the other:
query parameter values as the API reads them, and the two calls every resource makes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol

import httpx

__version__ = "0.1.0"

TimeLike = datetime | date | str
"""A date-time (aware ``datetime``), a ``date`` or an ISO 8601 string."""
ParamValue = str | int | float | bool | datetime | date | list[str] | tuple[str, ...] | None


_SECRET_SHAPE = re.compile(r"[0-9a-f]{32}")
SECRET_NOT_SENT = (
    "looks like an API key's secret (<prefix><32 hex>), not an id (key-..., usr-...): not sent, so no URL or log"
    " holds it; pass the key's id (`tater keys list` shows it)"
)


def looks_like_secret(value: object) -> bool:
    """``value`` holds a key secret's shape (SPEC §2: ``<prefix><32 lowercase hex>``). Tater's
    ids are ``<kind>-<uuid>`` (hex in dashed groups), so no id does."""
    return _SECRET_SHAPE.search(str(value)) is not None


def iso(value: date) -> str:
    """ISO 8601 for a date or an aware date-time (a naive one is refused: its instant is unknown)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: pass an aware datetime (e.g. tzinfo=timezone.utc)")
    return value.isoformat()


def _param(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return iso(value)
    if isinstance(value, list | tuple):
        return ",".join(value)
    return str(value)


def query(params: Mapping[str, ParamValue]) -> dict[str, str]:
    """Query parameters as the API reads them; ``None`` means "not sent"."""
    return {name: _param(value) for name, value in params.items() if value is not None}


class Requester(Protocol):
    """The calls a resource makes (:class:`tater_client.Tater` provides them)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, ParamValue] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> Any: ...

    def stream(
        self, method: str, path: str, *, params: Mapping[str, ParamValue] | None = None
    ) -> AbstractContextManager[httpx.Response]: ...
