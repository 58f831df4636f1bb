"""Shared plumbing for operator commands: ``--json`` output (one JSON object on the
last line of stdout), clear errors with exit code 1, and the ``system`` audit channel."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

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


class TaterCommand(BaseCommand):
    """Subclasses implement ``run(**options) -> dict`` and print human text via ``say``."""

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
        except CommandError as exc:
            self._fail(str(exc), "VALIDATION_ERROR")
        except DatabaseError as exc:
            self._fail(f"Database error: {exc}", "DATABASE_ERROR")
        if self._json:
            self.stdout.write(json.dumps(result, default=str))

    def _fail(self, message: str, code: str) -> None:
        if self._json:
            self.stdout.write(json.dumps({"error": code, "message": message}))
        raise CommandError(message, returncode=1)

    def run(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError
