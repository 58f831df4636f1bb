"""Names people give things (keys, organizations, tenants): one line of plain text.

A name is shown in lists, the Activity Log and mail subjects, so it must read as it is: no
control characters (a line break in a Subject header stops the mail) and no text-direction
controls (Trojan Source, CVE-2021-42574)."""

from __future__ import annotations

import unicodedata

from tater.exceptions import InvalidInput

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_one_line(text: str) -> bool:
    return not any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in text)


def clean_name(value: str | None, *, what: str = "Name", max_length: int = 100, field: str = "name") -> str:
    """``value`` stripped, or :class:`InvalidInput` naming ``field``: required, at most
    ``max_length`` characters, one line without control or text-direction characters."""
    name = (value or "").strip()
    if not name:
        raise InvalidInput(f"{what} is required", field=field)
    if len(name) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters", field=field)
    if not is_one_line(name):
        raise InvalidInput(
            f"{what} must be one line of text, without control or text-direction characters", field=field
        )
    return name
