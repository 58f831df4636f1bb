from __future__ import annotations

import time
import types
from typing import Any

import pytest

# An instant well inside an hour and at the start of a minute: windows are predictable.
T0 = 1_900_002_000.0  # 2030-03-17 18:20:00 UTC: a minute start, 20 minutes into the hour


class Clock:
    """The in-process limiter's, lockout's and usage's clock, moved by hand."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock(monkeypatch: Any, settings: Any) -> Clock:
    """A hand-moved clock for the in-process limiter. Redis counts on its own server clock
    (TIME), so tests on this clock use the in-process limiter on every run; the Redis
    backend's windows are tested in tests/limiter against a real server."""
    settings.TATER_RATELIMIT_BACKEND = "inprocess"
    c = Clock(T0)
    fake = types.SimpleNamespace(time=c, monotonic=time.monotonic, sleep=time.sleep)
    for module in ("tater.limiter.inprocess", "tater.limiter.cache", "tater.lockout"):
        monkeypatch.setattr(f"{module}.time", fake)
    # Usage keeps its flush schedule on the monotonic clock: the hand-moved one moves it too.
    monkeypatch.setattr("apikeys.usage.time", types.SimpleNamespace(time=c, monotonic=c, sleep=time.sleep))
    return c
