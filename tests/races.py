"""Two changes at once on PostgreSQL, in a chosen order: the race tests' one harness.

``while_held(first, second, pause_in=(owner, "name"))`` runs ``first`` in a thread; when it
reaches ``owner.name`` (a function it calls once it holds the locks the test is about) it
pauses there, and ``second`` starts in another thread. Both run to the end; what either
raised (a deadlock, a lock timeout) is returned, so a test asserts there was nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from unittest import mock

from django.db import connection

FIRST = "first"


def soon(call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` in a connection that gives up on a lock after 5 seconds: a regression fails,
    never hangs."""

    def bounded() -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
        return call()

    return bounded


def while_held(
    first: Callable[[], Any], second: Callable[[], Any], *, pause_in: tuple[Any, str], seconds: float = 0.5
) -> list[Exception]:
    errors: list[Exception] = []
    held = threading.Event()
    owner, name = pause_in
    original = getattr(owner, name)

    def paused(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == FIRST and not held.is_set():
            held.set()
            time.sleep(seconds)
        return original(*args, **kwargs)

    def run(call: Callable[[], Any], wait: bool) -> None:
        if wait:
            held.wait(timeout=30)
        try:
            call()
        except Exception as exc:
            errors.append(exc)
        finally:
            held.set()  # ``first`` failed before its pause: do not keep ``second`` waiting
            connection.close()

    threads = [
        threading.Thread(target=run, args=(first, False), name=FIRST),
        threading.Thread(target=run, args=(second, True)),
    ]
    with mock.patch.object(owner, name, paused):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return errors
