"""Query parameters and SearchRequest members as SCIM reads them (RFC 7644 §3.4.2, §3.4.3):
names in any case, a parameter sent twice with different values refused, integers as the
rest of the API reads whole numbers (``tater.api.fields.whole_number``)."""

from __future__ import annotations

from typing import Any

from scim.protocol.errors import bad_request
from tater.api.fields import whole_number


def refuse_repeated(query: Any) -> None:
    """Parameter names are case-insensitive (``param``): one sent several times with
    different values, under any spellings, is a 400 naming it, never one of them silently."""
    values: dict[str, set[str]] = {}
    for name, sent in query.lists():
        values.setdefault(str(name).lower(), set()).update(str(v).strip() for v in sent)
    repeated = sorted(name for name, seen in values.items() if len(seen) > 1)
    if repeated:
        raise bad_request(f"{', '.join(repeated)} sent several times with different values: send each once")


def param(source: Any, name: str) -> Any:
    lowered = name.lower()
    for key in source:
        if str(key).lower() == lowered:
            return source.get(key) if hasattr(source, "get") else source[key]
    return None


def integer(value: Any, name: str, default: int) -> int:
    """``startIndex`` / ``count``: a JSON integer, or ASCII digits (a query string, or a JSON
    string), the same from a GET and a POST ``.search``: ``1.7``, ``10.0``, ``"١٠"``, ``"+10"``,
    ``" 10 "``, ``"1_0"`` are a 400 ``invalidValue`` naming it, never read as some integer."""
    if value is None or value == "":
        return default
    number = whole_number(value)
    if number is None:
        raise bad_request(f"{name} must be an integer (ASCII digits)")
    return number
