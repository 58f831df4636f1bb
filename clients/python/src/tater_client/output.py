"""How the ``tater`` command prints: fields, tables and JSON. Whatever came from the network
(or from another user: a key name, an audit entry's user agent) is printed escaped, so it
can only be read, never drive the user's terminal."""

from __future__ import annotations

import codecs
import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime, timezone
from typing import IO, Any

from tater_client.errors import PermissionDenied, TaterError, UsageExhausted, ValidationError

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(char: str) -> str:
    if char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return char


def clean(text: str) -> str:
    """Text from the network (or an argument), as a terminal shows it and nothing more:
    control characters (ESC sequences, OSC 8 links, BEL, backspace, a carriage return
    that overwrites the line, C1, line breaks) and bidi overrides are printed escaped
    (``\\x1b``), so a server or whoever wrote a key name cannot drive the terminal."""
    return "".join(_escape(char) for char in text)


def moment(value: datetime) -> str:
    """A date-time as the API and ``manage.py`` write it: in UTC, to the second, ending in ``Z``
    (``2031-05-06T07:08:09Z``); a naive one (none comes from the API) as it is."""
    if value.tzinfo is None:
        return value.isoformat(timespec="seconds")
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def as_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, list | tuple):
        return ",".join(as_text(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if is_dataclass(value) and not isinstance(value, type):
        return " ".join(f"{f.name}={as_text(getattr(value, f.name))}" for f in fields(value))
    return clean(str(value))


def write_table(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    cells = [[as_text(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    for row in [list(header), *cells]:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def write_fields(out: IO[str], pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        out.write(f"{name + ':':<{width + 1}} {as_text(value)}\n")


def write_json(out: IO[str], data: Any) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_terminal_text(out: IO[str], chunks: Iterable[bytes]) -> None:
    """UTF-8 bytes (the CSV export) for a person at a terminal: its lines kept (``\\r\\n``
    shown as a line break), every other control character escaped as :func:`clean` does."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    for chunk in chunks:
        data = pending + decoder.decode(chunk)
        data, pending = (data[:-1], "\r") if data.endswith("\r") else (data, "")
        out.write("\n".join(clean(line) for line in data.replace("\r\n", "\n").split("\n")))
    out.write(clean(pending + decoder.decode(b"", final=True)))
    out.flush()


def report_error(error: TaterError, as_json: bool) -> None:
    """An API refusal on stderr for the `tater` command: code, message, what helps, request id."""
    if as_json:
        body = {
            "error": error.code,
            "message": error.message,
            "details": error.details,
            "request_id": error.request_id,
            "status": error.status,
        }
        sys.stderr.write(json.dumps(body, sort_keys=True) + "\n")
        return
    # Everything here may come from the server: printed through _clean/_text.
    sys.stderr.write(f"tater: {clean(error.code)}: {clean(error.message)}\n")
    if isinstance(error, ValidationError):
        for name, messages in error.fields.items():
            sys.stderr.write(f"  {clean(name)}: {clean('; '.join(messages))}\n")
    if isinstance(error, UsageExhausted):
        # Final: no "retry after N seconds" (weeks, for a monthly refill) to wait out.
        used = f"all {error.limit} uses" if error.limit is not None else "all its uses"
        until = f"resets at {moment(error.resets_at)}" if error.resets_at else "no refill: they do not come back"
        sys.stderr.write(f"  the key has used {used} ({until}); its owner can raise the limit\n")
    if isinstance(error, PermissionDenied) and error.required_permissions:
        sys.stderr.write(f"  required permissions: {clean(', '.join(error.required_permissions))}\n")
    if error.request_id:
        sys.stderr.write(f"  request id: {clean(str(error.request_id))}\n")
