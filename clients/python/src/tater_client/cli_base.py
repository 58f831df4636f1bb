"""What the ``tater`` command's modules share: exit codes, the handler type, usage errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from tater_client.client import Tater
from tater_client.output import write_json, write_table

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE = 0, 1, 2

Handler = Callable[[Tater, argparse.Namespace], int]
KeylessHandler = Callable[[argparse.Namespace], int]
"""A command that runs without ``TATER_API_KEY`` (``tater auth token``: how a key is got)."""


class UsageError(Exception):
    """A mistake in the command line or its inputs (exit 2)."""


class Leaf(Protocol):
    """Adds one command (``tater GROUP NAME``) to a group, running ``handler``."""

    def __call__(self, group: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser: ...


class _Raw(Protocol):
    @property
    def raw(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=_Raw)


def print_list(
    args: argparse.Namespace,
    *,
    key: str,
    noun: str,
    columns: Sequence[str],
    row: Callable[[T], list[Any]],
    every: Callable[[], Iterable[T]],
    page: Callable[[], Any],
    items: Callable[[Any], list[T]],
) -> int:
    """A list command's answer: every item (``--all``) or one page (``--limit``/``--offset``),
    as a table or the API's JSON (``key``: the list's name there); a table of one page says on
    stderr when more ``noun`` follow."""
    if args.all:
        found = list(every())
        if args.json:
            write_json(sys.stdout, {key: [item.raw for item in found], "total": len(found)})
        else:
            write_table(sys.stdout, columns, (row(item) for item in found))
        return EXIT_OK
    answer = page()
    if args.json:
        write_json(sys.stdout, answer.raw)
        return EXIT_OK
    write_table(sys.stdout, columns, (row(item) for item in items(answer)))
    shown = answer.offset + len(items(answer))
    if shown < answer.total:
        sys.stderr.write(f"{shown} of {answer.total} {noun} shown: --offset {shown} for more (or --all)\n")
    return EXIT_OK
