"""Store writes retried in the background (tater.limiter.retry): called until the store lets
them through, given up after a bound, and no thread left behind when nothing waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tater.limiter import LimiterUnavailable
from tater.limiter.retry import Retrier


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def retry_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "tater-store-retry")


def test_a_job_is_retried_until_the_store_answers() -> None:
    retrier = Retrier(every=0.01)
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise LimiterUnavailable("down")

    retrier.later(job)
    assert wait_until(lambda: retrier.pending() == 0)
    assert len(calls) == 3
    assert wait_until(lambda: retry_threads() == 0)  # nothing waits: the thread ended


def test_a_job_is_given_up_after_its_bound() -> None:
    retrier = Retrier(every=0.01, give_up_after=0.1)
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        raise LimiterUnavailable("down for good")

    retrier.later(job)
    assert wait_until(lambda: retrier.pending() == 0)
    given_up_at = len(calls)
    time.sleep(0.1)
    assert len(calls) == given_up_at >= 2


def test_jobs_queued_while_the_thread_runs_are_run_too() -> None:
    retrier = Retrier(every=0.01)
    done: list[str] = []
    retrier.later(lambda: done.append("first"))
    retrier.later(lambda: done.append("second"))
    assert wait_until(lambda: retrier.pending() == 0)
    retrier.later(lambda: done.append("third"))  # after the thread may have ended: a new one
    assert wait_until(lambda: retrier.pending() == 0)
    assert done == ["first", "second", "third"]


def test_a_job_that_fails_otherwise_is_dropped_not_retried_forever() -> None:
    retrier = Retrier(every=0.01)
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        raise RuntimeError("a bug, not an outage")

    retrier.later(job)
    assert wait_until(lambda: retrier.pending() == 0)
    time.sleep(0.05)
    assert calls == [1]


def test_forget_drops_what_waits() -> None:
    retrier = Retrier(every=0.01)
    calls: list[int] = []

    def job() -> None:
        calls.append(1)
        raise LimiterUnavailable("down")

    retrier.later(job)
    assert wait_until(lambda: len(calls) >= 1)
    retrier.forget()
    assert retrier.pending() == 0
    assert wait_until(lambda: retry_threads() == 0)
    settled = len(calls)
    time.sleep(0.05)
    assert len(calls) == settled
