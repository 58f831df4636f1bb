"""gunicorn's own answers, in the error catalog's JSON (SPEC §3: "whatever fails, never an
HTML page").

gunicorn answers a request it cannot parse itself, before the app runs: a header line over
``limit_request_field_size`` (431), a request line over ``limit_request_line`` (414), bytes
that are no HTTP (400). Its ``gunicorn.util.write_error`` writes an HTML page that also
echoes what it could not parse (a pasted key in an oversized header, say). ``install``
replaces that one function, in the master before it forks its workers: the same status and
reason, a ``VALIDATION_ERROR`` (``INTERNAL_ERROR`` for a 5xx) with a fixed message and a
request id, nothing of the request echoed."""

from __future__ import annotations

import json
import uuid
from typing import Any

_MESSAGES = {
    400: "Malformed HTTP request",
    403: "Request refused",
    414: "Request line too long",
    417: "Expectation not supported",
    431: "Request header fields too large",
    501: "Transfer coding not supported",
}


def answer(status: int, reason: str) -> bytes:
    """The whole HTTP response for ``status``: a catalog error body, connection closed."""
    error = "INTERNAL_ERROR" if status >= 500 and status != 501 else "VALIDATION_ERROR"
    message = _MESSAGES.get(status, "Internal server error" if status >= 500 else "Malformed HTTP request")
    body = json.dumps({"error": error, "message": message, "request_id": uuid.uuid4().hex}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """``gunicorn.util.write_error``'s signature; ``mesg`` (what gunicorn could not parse) is
    left out of the answer."""
    from gunicorn import util

    util.write_nonblock(sock, answer(status_int, reason))


def install() -> None:
    from gunicorn import util

    util.write_error = write_error
