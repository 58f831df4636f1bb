"""What the ``tater`` command's modules share: exit codes, the handler type, usage errors."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, Protocol

from tater_client.client import Tater

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE = 0, 1, 2

Handler = Callable[[Tater, argparse.Namespace], int]
KeylessHandler = Callable[[argparse.Namespace], int]
"""A command that runs without ``TATER_API_KEY`` (``tater auth token``: how a key is got)."""


class UsageError(Exception):
    """A mistake in the command line or its inputs (exit 2)."""


class Leaf(Protocol):
    """Adds one command (``tater GROUP NAME``) to a group, running ``handler``."""

    def __call__(self, group: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser: ...
