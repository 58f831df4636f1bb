"""The counting core on the in-process cache: exact under threads, generic fallback safe."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache

from tater import ratelimit


def burst(windows, threads=16, each=10, ident="k1"):
    admitted = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def run():
        start.wait()
        for _ in range(each):
            decision = ratelimit.hit(ident, windows)
            with lock:
                admitted.append(decision.admitted)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(admitted)


def test_locmem_is_exact_under_threads(clock):
    assert burst((ratelimit.Window(60, 37), ratelimit.Window(3600, 1000))) == 37


def test_generic_backend_never_over_admits(clock, monkeypatch):
    monkeypatch.setattr(ratelimit, "_is_locmem", lambda backend: False)
    windows = (ratelimit.Window(60, 37), ratelimit.Window(3600, 1000))
    assert burst(windows) <= 37
    clock.advance(60)
    # Sequentially it admits exactly the limit, and refusals are rolled back.
    results = [ratelimit.hit("k2", windows).admitted for _ in range(40)]
    assert results == [True] * 37 + [False] * 3
    assert cache.get(f"rl:k2:60:{int(clock.t // 60)}") == 37


@pytest.mark.parametrize("locmem", [True, False])
def test_increments_create_then_add(clock, monkeypatch, locmem):
    if not locmem:
        monkeypatch.setattr(ratelimit, "_is_locmem", lambda backend: False)
    assert ratelimit.incr_counters([("c:a", 2, 60), ("c:b", 1, 60)]) == [2, 1]
    assert ratelimit.incr_counters([("c:a", 3, 60), ("c:b", -1, 60)]) == [5, 0]
    assert cache.get_many(["c:a", "c:b"]) == {"c:a": 5, "c:b": 0}


def test_windows_for_plans_and_overrides(settings):
    settings.TATER_PLAN_RATE_LIMITS = {"free": (60, 1000), "pro": (300, 10_000)}
    W = ratelimit.Window
    assert ratelimit.windows_for("pro") == (W(60, 300), W(3600, 10_000))
    assert ratelimit.windows_for("unknown-plan") == (W(60, 60), W(3600, 1000))
    assert ratelimit.windows_for("free", "5/min") == (W(60, 5), W(3600, 1000))
    assert ratelimit.windows_for("free", "5/10s") == (W(10, 5), W(60, 60), W(3600, 1000))
    assert ratelimit.windows_for("free", "2000/hour") == (W(60, 60), W(3600, 1000))  # never looser
    assert ratelimit.windows_for("free", "garbage") == (W(60, 60), W(3600, 1000))
