"""Counts what the hardening suite exercised; written out at the end of the session."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FIGURES: dict[str, object] = {}


@dataclass(frozen=True)
class CellResult:
    op: str
    endpoint: str
    method: str
    caller: str
    relation: str
    expected: str
    got: str
    problems: tuple[str, ...]
    note: str = ""


CELLS: list[CellResult] = []
PROBES: list[str] = []  # exempt endpoints probed anonymously


def record(result: CellResult) -> None:
    CELLS.append(result)


def dump() -> dict[str, Any]:
    """What this process recorded, in plain data (a pytest-xdist worker sends it to the
    controller, which writes the one report)."""
    figures = {name: value if isinstance(value, int | float) else str(value) for name, value in FIGURES.items()}
    return {"cells": [asdict(cell) for cell in CELLS], "probes": list(PROBES), "figures": figures}


def merge(data: dict[str, Any]) -> None:
    """Add a worker's :func:`dump` to this process's records."""
    CELLS.extend(CellResult(**{**cell, "problems": tuple(cell["problems"])}) for cell in data.get("cells", ()))
    PROBES.extend(data.get("probes", ()))
    FIGURES.update(data.get("figures", {}))


def summary() -> str:
    endpoints = {c.endpoint for c in CELLS}
    methods = {(c.endpoint, c.method) for c in CELLS}
    failing = [c for c in CELLS if c.problems]
    ambiguous = [c for c in CELLS if c.note]
    return (
        f"access matrix: {len(CELLS)} cells (callers × operations × targets) over {len(endpoints)} endpoints, "
        f"{len(methods)} endpoint-methods, {len({c.op for c in CELLS})} operations; {len(failing)} mismatches; "
        f"{len(ambiguous)} cells on points the SPEC leaves open"
    )


def write(path: Path) -> list[str]:
    lines = []
    if CELLS:
        lines.append(summary())
    if PROBES:
        lines.append(f"exempt endpoints probed anonymously: {len(PROBES)}")
    for name, value in sorted(FIGURES.items()):
        lines.append(f"{name}: {value}")
    if not lines:
        return lines
    detail: list[str] = []
    by_op: dict[str, list[CellResult]] = defaultdict(list)
    for cell in CELLS:
        by_op[cell.op].append(cell)
    mismatches = [c for c in CELLS if c.problems]
    if mismatches:
        detail += ["", "mismatches (operation / caller / target: problems):"]
        for op, cells in by_op.items():
            for c in cells:
                if c.problems:
                    detail.append(f"  {op:<26} {c.caller:<30} {c.relation:<16} " + " ; ".join(c.problems))
    notes = sorted({(c.op, c.note) for c in CELLS if c.note})
    if notes:
        detail += ["", "choices where the SPEC is silent (AMBIGUOUS):"]
        detail += [f"  {op:<26} {note}" for op, note in notes]
    detail += ["", "every cell (operation / caller / target: expected -> got):"]
    for op, cells in by_op.items():
        for c in cells:
            mark = "MISMATCH" if c.problems else "ok"
            detail.append(f"  {op:<26} {c.caller:<30} {c.relation:<16} {c.expected:<32} -> {c.got:<32} {mark}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([*lines, *detail]) + "\n")
    return lines
