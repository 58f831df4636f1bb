from __future__ import annotations

from typing import Any

import pytest

from tater import ratelimit

# An instant well inside an hour and at the start of a minute: windows are predictable.
T0 = 1_900_002_000.0  # 2030-03-17 18:20:00 UTC: a minute start, 20 minutes into the hour


class Clock:
    """The limiter's and lockout's clock, moved by hand."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    c = Clock(T0)
    monkeypatch.setattr(ratelimit, "now", c)
    return c
