"""Shared plumbing for operator commands: ``--json`` output (one JSON object on the
last line of stdout), clear errors with exit code 1, and the ``system`` audit channel."""

from __future__ import annotations

import ipaddress
import json
import re
import sys
import unicodedata
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from tater import context
from tater.exceptions import DomainError

_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d|w)$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """``30d``, ``12h``, ``15m``, ``2s``, ``1w`` → timedelta."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise CommandError(f"Invalid duration {value!r}: use a number and s, m, h, d or w (e.g. 30d)")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?")


def parse_site_url(value: str, option: str) -> str:
    """The site's public address given as ``option`` (``https://tater.example.com``, perhaps
    with a path prefix), without its trailing slash; empty stays empty (none given). It is
    printed for pasting into an identity provider or a shell: anything but an http(s) URL
    with a host (another scheme, a space, a control character, credentials, a query or
    fragment that a path would be glued after) is a :class:`CommandError`."""
    if not value:
        return ""
    example = "e.g. https://tater.example.com"
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value):
        raise CommandError(f"{option} must be an http(s) URL without spaces or control characters ({example})")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise CommandError(f"{option} must be an http(s) URL with a valid host and port ({example})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise CommandError(f"{option} must be an http(s) URL starting with http:// or https:// ({example})")
    if parts.username is not None or parts.password is not None or "?" in value or "#" in value:
        raise CommandError(
            f"{option} must be an http(s) URL without user name, password, query or fragment ({example})"
        )
    if port == 0 or not _valid_host(parts.hostname or ""):
        raise CommandError(f"{option} must be an http(s) URL with a valid host and port ({example})")
    return value.rstrip("/")


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_HOST_NAME.fullmatch(ascii_host))


class PartlyFailed(CommandError):
    """Some of a command's work failed and the rest was done (each item on its own): exit
    status 1, so a cron job or a script notices, and with ``--json`` the answer (``result``:
    what was done, what failed) with ``error`` and ``message`` beside it."""

    def __init__(self, message: str, *, result: dict[str, Any]) -> None:
        super().__init__(message, returncode=1)
        self.result = result


class TaterCommand(BaseCommand):
    """Subclasses implement ``run(**options) -> dict`` and print human text via ``say``."""

    _json_requested = False  # --json on the command line (run_from_argv), before it is parsed

    def run_from_argv(self, argv: list[str]) -> None:
        # argparse reports a bad argument (unknown option, invalid choice, one missing) with a
        # usage on stderr and exit 2, before handle(): with --json, stdout gets the error
        # object every other failure gives, so a script's json.loads still reads the answer.
        self._json_requested = "--json" in argv[2:]
        try:
            super().run_from_argv(argv)
        except CommandError as exc:
            if not self._json_requested or hasattr(self, "_json"):
                raise  # not the parser's (handle() ran: --traceback re-raises its errors)
            message = str(exc).removeprefix("Error: ")
            self.stdout.write(json.dumps({"error": "VALIDATION_ERROR", "message": message}))
            self.stderr.write(f"CommandError: {message}")
            sys.exit(2)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # No abbreviated options: ``--js`` must not act as ``--json`` on success while its
        # errors (detected by the full spelling above) stay argparse's usage text, nor
        # ``--ten`` as ``--tenant`` (a script's typo is refused, not guessed).
        kwargs.setdefault("allow_abbrev", False)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self._json_requested:
            parser.called_from_command_line = False  # a bad argument raises CommandError (above)
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print one JSON object on the last line")
        self.add_command_arguments(parser)

    def add_command_arguments(self, parser: CommandParser) -> None:
        pass

    def say(self, text: str) -> None:
        if not self._json:
            self.stdout.write(text)

    def handle(self, *args: Any, **options: Any) -> None:
        self._json = options["json"]
        try:
            with context.override(channel="system"):
                result = self.run(**options)
        except DomainError as exc:
            self._fail(exc.message, exc.code)
        except PartlyFailed as exc:
            self._fail(str(exc), "PARTLY_FAILED", exc.result)
        except CommandError as exc:
            self._fail(str(exc), "VALIDATION_ERROR")
        except DatabaseError as exc:
            self._fail(f"Database error: {exc}", "DATABASE_ERROR")
        except Exception as exc:
            # Anything unexpected is still one JSON object (a script reads stdout), not a
            # traceback: SPEC §3's INTERNAL_ERROR. --traceback shows it whole, as Django does.
            if options.get("traceback"):
                raise
            self._fail(
                f"Unexpected error ({type(exc).__name__}): {exc} (run with --traceback for details)", "INTERNAL_ERROR"
            )
        if self._json:
            self.stdout.write(json.dumps(result, default=str))

    def _fail(self, message: str, code: str, result: dict[str, Any] | None = None) -> None:
        if self._json:
            self.stdout.write(json.dumps({**(result or {}), "error": code, "message": message}, default=str))
        raise CommandError(message, returncode=1)

    def run(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError
