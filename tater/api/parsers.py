"""The API's JSON parser: DRF's, minus the ways a body could turn into a 500 (SPEC §3).

Refused with 400 VALIDATION_ERROR (``Malformed request body: ...``) before any view sees
the data: nesting deeper than ``MAX_DEPTH`` (Python's json recurses, so a body of 100,000
``[`` would otherwise end in RecursionError, and a merely deep one in the serializers or
the renderer), text that is not valid in its charset, NUL characters and lone UTF-16
surrogates in strings (PostgreSQL and UTF-8 encoders refuse them later, as a 500), numbers
beyond a float's range (``1e999`` parses as infinity, which no JSON column holds), an
object naming a member twice (I-JSON, RFC 7493 §2.3: ``{"scopes": [...], "scopes": ["*"]}``
is the last value to Python and may be the first to a proxy or a reviewer). Bodies
over ``TATER_MAX_UPLOAD_BYTES`` are refused with 413 even where the middleware is not in
front (it refuses them from their Content-Length, unread).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from tater.api.errors import max_body_bytes, payload_too_large

MAX_DEPTH = 64

# In a JSON text whose escaped backslashes (\\) are replaced, every remaining backslash
# starts an escape: then this finds exactly the \u0000 escapes and the UTF-16 surrogate
# escapes that are not a high-low pair, the only ways a parsed string holds a NUL or a
# lone surrogate. C speed (the common \u prefix first), no walk over the parsed data.
_BAD_ESCAPE = re.compile(
    r"\\u(?:0000"
    r"|[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"  # a high not followed by a low
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u)[dD][c-fC-F][0-9a-fA-F]{2})"  # a low not after a high
)


def _too_deep(value: Any) -> bool:
    """Whether containers nest deeper than MAX_DEPTH: one level at a time (no recursion to
    exhaust), each level one comprehension (a 5 MB upload walks in a fraction of its parse)."""
    level = [value] if type(value) is dict or type(value) is list else []
    for _ in range(MAX_DEPTH):
        if not level:
            return False
        level = [
            child
            for node in level
            for child in (node.values() if type(node) is dict else node)
            if type(child) is dict or type(child) is list
        ]
    return bool(level)


def _bad_escape(text: str) -> str | None:
    """Why the strings of this (valid) JSON text cannot be stored, or None."""
    if "\\u" not in text:
        return None
    # A placeholder, not nothing: a high escape, an escaped backslash and a low escape
    # must not become a pair.
    found = _BAD_ESCAPE.search(text.replace("\\\\", "_"))
    if found is None:
        return None
    if found.group() == "\\u0000":
        return "NUL characters (\\u0000) are not accepted in strings"
    return "Unpaired UTF-16 surrogate escapes are not accepted in strings"


def loads(raw: bytes, encoding: str = "utf-8") -> Any:
    """A request body as JSON; any refusal is a ParseError (400 VALIDATION_ERROR naming
    the body). For views that read the body themselves (the scans upload)."""
    try:
        text = raw.decode(encoding)
    except (UnicodeError, LookupError):  # UnicodeError: some codecs (punycode) raise no subclass
        raise ParseError(f"The body is not valid {encoding} text") from None
    try:
        data = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_once_each
        )
    except RecursionError:
        raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    # Fewer brackets than the limit cannot nest past it: small bodies skip the walk.
    if text.count("[") + text.count("{") > MAX_DEPTH and _too_deep(data):
        raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels")
    problem = _bad_escape(text)
    if problem:
        raise ParseError(problem)
    return data


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        twice = next(name for name, count in Counter(name for name, _ in pairs).items() if count > 1)
        raise ValueError(f"Member {twice[:60]!r} is named twice in an object")
    return obj


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"Number out of range: {text[:40]!r}")
    return value


class JSONParser(parsers.JSONParser):
    """REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]: DRF's JSON parser with the refusals above."""

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        # get_encoding (DRF 3.18: text codecs only) is missing from djangorestframework-stubs.
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        limit = max_body_bytes()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise payload_too_large()
        return loads(raw, encoding)
