from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.hardening import report

ARTIFACT = Path(__file__).resolve().parents[2] / "artifacts" / "hardening-matrix.txt"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = report.write(ARTIFACT)
    if lines:
        terminalreporter.write_sep("-", "hardening")
        for line in lines:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"(details: {ARTIFACT})")
