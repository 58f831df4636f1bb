"""Writes to the limiter's store that must not wait for the next request: retried in the
background until the store answers.

    retry.later(lambda: limiter.get_limiter().write({...}, ttl=60))

A job is called every ``RETRY_EVERY`` seconds by one daemon thread per process (started
when a job is queued, ended when none is left) until it returns without raising
:class:`LimiterUnavailable`, or ``GIVE_UP_AFTER`` seconds have passed. Whatever must
survive the process too is the caller's to keep elsewhere (``apikeys.keycheck`` keeps
missed key invalidations in the database as well, and sweeps them on requests).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from tater.limiter.core import LimiterUnavailable

logger = logging.getLogger("tater.limiter")

RETRY_EVERY = 1.0
GIVE_UP_AFTER = 600.0


class Retrier:
    def __init__(self, *, every: float = RETRY_EVERY, give_up_after: float = GIVE_UP_AFTER) -> None:
        self.every, self.give_up_after = every, give_up_after
        self._lock = threading.Lock()
        self._jobs: list[tuple[Callable[[], object], float]] = []
        self._thread: threading.Thread | None = None

    def later(self, job: Callable[[], object]) -> None:
        """Call ``job`` again soon, and again, until the store lets it through."""
        with self._lock:
            self._jobs.append((job, time.monotonic() + self.give_up_after))
            if self._thread is None or not self._thread.is_alive():  # none yet, or lost in a fork
                self._thread = threading.Thread(target=self._run, name="tater-store-retry", daemon=True)
                self._thread.start()

    def pending(self) -> int:
        """How many jobs still wait for the store."""
        with self._lock:
            return len(self._jobs)

    def forget(self) -> None:
        """Drop every queued job (its caller keeps what must survive elsewhere)."""
        with self._lock:
            self._jobs = []

    def _run(self) -> None:
        while True:
            time.sleep(self.every)
            with self._lock:
                jobs = list(self._jobs)
            done = [entry for entry in jobs if self._done(*entry)]
            with self._lock:
                self._jobs = [entry for entry in self._jobs if entry not in done]
                if not self._jobs:
                    self._thread = None
                    return

    @staticmethod
    def _done(job: Callable[[], object], deadline: float) -> bool:
        try:
            job()
        except LimiterUnavailable as exc:
            if time.monotonic() < deadline:
                return False
            logger.warning("rate-limit store still unavailable, a retried write is given up: %s", exc)
        except Exception:
            logger.exception("a retried write to the rate-limit store failed")
        return True


_retrier = Retrier()


def _after_fork_in_child() -> None:
    # A forked worker starts with nothing queued and a lock nobody holds (the parent's
    # thread is not copied; its jobs stay the parent's).
    global _retrier
    _retrier = Retrier()


os.register_at_fork(after_in_child=_after_fork_in_child)


def later(job: Callable[[], object]) -> None:
    _retrier.later(job)


def pending() -> int:
    return _retrier.pending()


def forget() -> None:
    _retrier.forget()
