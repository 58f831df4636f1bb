"""Log lines: JSON (python-json-logger) or text, both with the request id, neither with a
secret.

Every JSON line has ``timestamp``, ``level``, ``logger``, ``message`` and, inside a
request, ``request_id``; access lines (logger ``tater.access``, one per request, written by
``OperationsMiddleware``) add ``method``, ``route``, ``status``, ``duration_ms``,
``client_ip``, ``key_id`` (the key's public id) and ``user_id``. Tracebacks go in
``exc_info``.

No secret reaches a line, whatever a caller logs:

- paths are never written raw: inside a request, its path (and path with query string) in
  a message or traceback becomes its URL pattern (``/invitations/<str:token>/``), so the
  tokens of invitation, reset and confirmation links stay out;
- API keys, SCIM tokens, reset keys (32 hex with a prefix), long opaque tokens
  (``secrets.token_urlsafe``), JWTs, ``Bearer``/``Basic`` credentials and ``password=…``-style
  pairs (also ``"new_password1": "…"``, ``'password': ['…']``, ``client_secret=…``) are
  replaced by ``[REDACTED]``;
- record attributes that are not plain values are dropped (Django's ``request`` object,
  whose repr carries the raw path).
"""

from __future__ import annotations

import contextvars
import logging
import re
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from tater.operations.routes import route_of

REDACTED = "[REDACTED]"
# One line per request, written by OperationsMiddleware from parts that hold no secret (the
# route, never the path; the key's public id): not redacted, it is the hottest line.
ACCESS_LOGGER = "tater.access"

# The request being served by this thread (set by OperationsMiddleware), for the request id
# and for the path redaction.
current_request: contextvars.ContextVar[Any] = contextvars.ContextVar("tater_operations_request", default=None)

_OPAQUE = "A-Za-z0-9_-"
_SECRETS = re.compile(
    r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"  # JWTs
    r"|(?P<scheme>\b(?:[Bb]earer|[Bb]asic)\s+)[^\s\"',;]+"
    # name=value, "name": "value", 'name': ['value'] (a QueryDict); the name may have a
    # prefix (new_password1, client_secret, refresh_token); a quoted value runs to its quote
    # (or the line's end).
    r"|(?P<pair>(?<![A-Za-z0-9_-])(?i:(?:[a-z0-9]+[_-])*"
    r"(?:password\d?|passwd|oldpassword|secret|token|otp|code|api[_-]?key|sessionid|csrftoken))"
    r"[\"']?\s*[:=]\s*\[?\s*)"
    r"(?:(?P<quote>[\"'])(?:\\.|(?!(?P=quote))[^\\\n])*(?:(?P=quote)|(?=\n)|\Z)|[^\s&\"',;}\]]+)"
    # Long opaque runs, judged by _opaque_secret.
    rf"|(?P<opaque>(?<![{_OPAQUE}])[{_OPAQUE}]{{22,}}(?![{_OPAQUE}]))"
)
_HEX32 = re.compile(r"[0-9a-f]{32}")
_HEX = frozenset("0123456789abcdef")


def _opaque_secret(run: str) -> bool:
    """API keys, SCIM tokens and password-reset keys (32 hex and something more: a prefix, a
    timestamp), ``secrets.token_urlsafe`` values (upper and lower case letters and digits).
    Not request ids and digests (bare lowercase hex) nor names."""
    if _HEX32.search(run):
        return not _HEX.issuperset(run)
    return any(c.isupper() for c in run) and any(c.islower() for c in run) and any(c.isdigit() for c in run)


def _replace(match: re.Match[str]) -> str:
    opaque = match.group("opaque")
    if opaque is not None and not _opaque_secret(opaque):
        return opaque
    quote = match.group("quote") or ""
    return (match.group("scheme") or match.group("pair") or "") + quote + REDACTED + quote


def redact(text: str, request: Any = None) -> str:
    """``text`` without the secrets it may carry (see the module docstring)."""
    if request is not None:
        path = getattr(request, "path", "")
        if len(path) > 1 and path in text:
            safe = route_of(request)
            full_path = request.get_full_path()
            if full_path != path:  # the query string goes too
                text = text.replace(full_path, safe)
            if safe != path:
                text = text.replace(path, safe)
    return _SECRETS.sub(_replace, text)


def _no_redaction(text: str, request: Any = None) -> str:
    return text


def _request_of(record: logging.LogRecord) -> Any:
    request = current_request.get()
    if request is None:
        # Django's own lines (django.request, django.security) carry it.
        candidate = record.__dict__.get("request")
        if hasattr(candidate, "resolver_match"):
            request = candidate
    return request


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line (see the module docstring for the fields)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every stderr line JSON: Python's warnings become log lines (logger py.warnings)
        # instead of being printed as they are.
        logging.captureWarnings(True)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        request = _request_of(record)
        clean = _no_redaction if record.name == ACCESS_LOGGER and not message_dict else redact
        log_data["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = clean(record.message, request)
        request_id = getattr(request, "request_id", None)
        if request_id:
            log_data["request_id"] = request_id
        extras = [
            (k, v)
            for k, v in record.__dict__.items()
            # request_id: ours, from the request (TextFormatter leaves "-" on the record).
            if k not in self._skip_fields and k != "request_id" and not k.startswith("_")
        ]
        for key, value in (*extras, *message_dict.items()):  # message_dict: exc_info, stack_info
            if key in log_data:
                continue
            if isinstance(value, str):
                value = clean(value, request)
            elif isinstance(value, list):  # exc_info_as_array
                value = [clean(str(line), request) for line in value]
            elif not (value is None or isinstance(value, bool | int | float)):
                continue  # an object (Django's request): its repr would carry the raw path
            log_data[key] = value


class TextFormatter(logging.Formatter):
    """``<time> <LEVEL> <logger> [<request id>] <message>`` (development), redacted alike."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None) -> None:
        super().__init__(fmt or "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s", datefmt)

    def format(self, record: logging.LogRecord) -> str:
        request = _request_of(record)
        record.request_id = getattr(request, "request_id", None) or "-"
        text = super().format(record)
        return text if record.name == ACCESS_LOGGER and not record.exc_info else redact(text, request)
