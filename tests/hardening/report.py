"""Counts what the hardening suite exercised; written out at the end of the session."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

MATRIX: Counter[tuple[str, str]] = Counter()
MATRIX_FAILURES: list[str] = []
FIGURES: dict[str, object] = {}


def record(endpoint: str, method: str, caller: str, target: str | None, status: int, problem: str | None) -> None:
    MATRIX[(endpoint, method)] += 1
    if problem:
        MATRIX_FAILURES.append(f"{endpoint} {method} {caller} {target}: {problem}")


def total() -> int:
    return sum(MATRIX.values())


def write(path: Path) -> list[str]:
    lines = []
    if MATRIX:
        lines.append(f"access matrix: {total()} cases over {len({e for e, _ in MATRIX})} endpoints, "
                     f"{len(MATRIX)} endpoint-methods, {len(MATRIX_FAILURES)} mismatches")
    for name, value in sorted(FIGURES.items()):
        lines.append(f"{name}: {value}")
    if not lines:
        return lines
    path.parent.mkdir(parents=True, exist_ok=True)
    detail = [f"  {endpoint:<28} {method:<8} {count}" for (endpoint, method), count in sorted(MATRIX.items())]
    path.write_text("\n".join([*lines, "", "cases per endpoint and method:", *detail, "", *MATRIX_FAILURES]) + "\n")
    return lines
