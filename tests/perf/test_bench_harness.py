"""The bench's in-process ratio harness (bench.ratio) runs end to end and reports a
well-formed row. A smoke test of the harness, not of performance: no timing is asserted.

It runs the harness the way ``bash bench/run --quick`` does, for the embedded default only
(SQLite + in-process cache), with tiny numbers, in processes of its own (the harness's
environment: the app's settings, DEBUG off, a fresh SQLite file).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_quick_sqlite_row_is_well_formed(tmp_path: Path) -> None:
    out = tmp_path / "ratios.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "bench.ratio",
            "--quick",
            "--modes",
            "sqlite",
            "--runs",
            "2",
            "--requests",
            "20",
            "--warmup",
            "5",
            "--keys",
            "3",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    (row,) = result["rows"]
    assert "error" not in row, row.get("error")
    assert row["mode"] == "sqlite"
    assert row["target"] == 1.15
    assert row["runs"] == 2
    assert row["requests_per_run"] == 20
    assert row["keys_in_turn"] == 3
    # Every request answered 200: 10 open and 10 validate per run.
    assert row["statuses"] == {"open": {"200": 20}, "validate": {"200": 20}}
    assert row["all_200"] is True
    assert len(row["per_run"]) == 2
    for run in row["per_run"]:
        assert run["open_us"] > 0 and run["validate_us"] > 0 and run["ratio"] > 0
    assert row["open_us_median"] > 0 and row["validate_us_median"] > 0
    assert row["ratio_min"] <= row["ratio_median_of_runs"] <= row["ratio_max"]
    assert isinstance(row["pass"], bool)
    assert row["response_bytes"]["validate"] > 0 and row["response_bytes"]["open"] > 0
    # The table row printed for the mode, and nothing left behind but the logs.
    assert any(line.startswith("| sqlite | ") for line in done.stdout.splitlines()), done.stdout
    assert not list((tmp_path / "ratio").glob("*.sqlite3*"))
