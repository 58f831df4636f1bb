"""What the concurrency tests check of a run: the rolling-window property, exactly."""

from __future__ import annotations

from collections.abc import Sequence


def most_in_any_window(times: Sequence[float], seconds: float) -> int:
    """The most admissions inside any half-open interval ``[a, a + seconds)``."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, t in enumerate(ordered):
        while t - ordered[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def replay(attempts: Sequence[tuple[float, bool]], seconds: float, limit: int) -> list[bool]:
    """The decisions a sliding log must make for these attempts, in the order they were made.

    Attempts are ordered by the time the store decided them (ties: the admitted one first,
    since a refusal changes nothing). Each is admitted iff fewer than ``limit`` earlier
    admissions lie in ``(t - seconds, t]``.
    """
    admitted: list[float] = []
    decisions = []
    for t, _ in attempts:
        ok = sum(1 for a in admitted if a > t - seconds) < limit
        if ok:
            admitted.append(t)
        decisions.append(ok)
    return decisions


def in_decision_order(attempts: Sequence[tuple[float, bool]]) -> list[tuple[float, bool]]:
    return sorted(((float(t), bool(ok)) for t, ok in attempts), key=lambda a: (a[0], not a[1]))
