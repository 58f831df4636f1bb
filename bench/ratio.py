"""The in-process ratio: ``GET /api/v1/auth/validate`` against an open DRF view.

    python -m bench.ratio [--modes auto|sqlite,pg,pg-cold] [--quick] [--runs 5] [--requests 400]

Method (the issue's independent harness): the full WSGI stack of the app's own settings
(bench.settings = tater.settings plus a URL for the open view), DJANGO_DEBUG=0; the WSGI
application called with hand-built environs, every response body read to its end (so
both answers are rendered on every request); 12 keys of an enterprise-plan tenant, made
through the service layer in a fresh database, presented in turn; ``--runs`` runs of
``--requests`` requests alternating open, validate, open, validate... Per run: median
validate ÷ median open; reported: the median of the runs' ratios and their spread.

Modes, each in processes of its own with its own environment and fresh database:
- ``sqlite``: SQLite + the in-process cache (the embedded default: no REDIS_URL), warm;
- ``pg``: PostgreSQL + Redis, warm;
- ``pg-cold``: PostgreSQL + Redis, every validate request a process-memo miss with the
  principal in Redis: a second process validates a pool of keys first, then the measuring
  process presents each pool key once (runs × requests/2 keys);
- every mode also times a *floor* after each validate request: the validate view with a
  key check that costs nothing (``bench.views.FloorView``: a dict lookup). Floor ÷ open is
  what validate would cost if the key check were free: the yardstick the measured ratio is
  read against. The Redis modes time a second one, the same view waiting for one redis-py
  ``PING`` (``RoundTripFloorView``): what any check that waits for its round trip costs at
  least (the key check sends its round trip ahead, so it can do better);
- ``--filler N`` (bench/run --full): the ``sqlite`` and ``pg`` rows again on a database
  holding N more keys ("flat": the ratio must not grow with the key table).

Each mode prints a row as soon as it is measured; the table goes to stdout and
bench/results/ratios.json. The PostgreSQL databases made here are dropped, and the Redis
keys written under this run's CACHE_KEY_PREFIX (and the limiter's ``rl:`` keys of the
bench's Redis database) deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/12"
TARGETS = {"sqlite": 1.15, "pg": 1.3, "pg-cold": 1.5}
LABELS = {
    "sqlite": "SQLite + in-process (embedded default), warm",
    "pg": "PostgreSQL + Redis, warm",
    "pg-cold": "PostgreSQL + Redis, cold (process memo miss, principal in Redis)",
}


def log(msg: str) -> None:
    print(f"bench.ratio: {msg}", file=sys.stderr, flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        try:
            s.connect((host, port))
        except OSError:
            return False
    return True


def services_up() -> bool:
    return port_open("127.0.0.1", 5432) and port_open("127.0.0.1", 6379)


# --- one mode ---------------------------------------------------------------------------------
class Mode:
    """A mode's environment and its fresh database; ``with`` drops what it made."""

    def __init__(self, mode: str, filler: int = 0, workdir: Path | None = None) -> None:
        self.mode, self.filler = mode, filler
        self.tag = secrets.token_hex(4)
        self.backend = "sqlite" if mode == "sqlite" else "pg"
        self.name = mode + (f"+{filler:,}keys" if filler else "")
        self.dir = workdir or RESULTS / "ratio"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.pg_db = f"tater_bench_{self.tag}"
        self.prefix = f"tater-bench-{self.tag}"
        self.sqlite_path = self.dir / f"{self.tag}.sqlite3"
        self.log_path = self.dir / f"{self.name}.log"

    def env(self) -> dict[str, str]:
        drop = {
            "DATABASE_URL",
            "REDIS_URL",
            "CACHE_KEY_PREFIX",
            "SQLITE_PATH",
            "TATER_TESTING",
            "DJANGO_SETTINGS_MODULE",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "TATER_LOCAL_HTTP",
            "DJANGO_DEBUG",
        }
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(
            DJANGO_SETTINGS_MODULE="bench.settings",
            DJANGO_DEBUG="0",
            SECRET_KEY="bench-" + secrets.token_hex(24),
            ALLOWED_HOSTS="localhost",
            PYTHONPATH=str(ROOT),
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.backend == "sqlite":
            env["SQLITE_PATH"] = str(self.sqlite_path)
        else:
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.pg_db}"
            env["REDIS_URL"] = REDIS_URL
            env["CACHE_KEY_PREFIX"] = self.prefix
        return env

    def __enter__(self) -> Mode:
        if self.backend == "pg":
            import psycopg

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_db}"')
        self.logfile = open(self.log_path, "w")  # noqa: SIM115 - closed in __exit__
        return self

    def __exit__(self, *exc: object) -> None:
        self.logfile.close()
        if self.backend == "sqlite":
            for path in self.dir.glob(self.sqlite_path.name + "*"):  # -wal, -shm, the app's side files
                path.unlink(missing_ok=True)
            return
        import psycopg
        import redis

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
        r = redis.Redis.from_url(REDIS_URL)
        for pattern in (f"{self.prefix}:*", "rl:*"):
            batch = list(r.scan_iter(match=pattern, count=1000))
            for i in range(0, len(batch), 1000):
                r.delete(*batch[i : i + 1000])

    def redis_keys(self) -> int:
        """Keys under this run's cache prefix (a sanity figure: the other process's work)."""
        import redis

        return sum(1 for _ in redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{self.prefix}:*", count=1000))

    def step(self, *args: str) -> dict[str, Any]:
        """Run one bench.ratio_worker step in a process of its own; its RATIOJSON line."""
        cmd = [sys.executable, "-m", "bench.ratio_worker", *args]
        self.logfile.write(f"$ {' '.join(cmd)}\n")
        self.logfile.flush()
        done = subprocess.run(
            cmd, env=self.env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=self.logfile, text=True, check=False
        )
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RATIOJSON ")), None)
        if done.returncode != 0 or line is None:
            self.logfile.flush()
            tail = self.log_path.read_text()[-3000:]
            raise RuntimeError(f"{self.name}: {args[0]} failed ({done.returncode}); {self.log_path}:\n{tail}")
        return json.loads(line.split(" ", 1)[1])


def run_mode(
    mode: str, runs: int, requests: int, keys: int = 12, warmup: int = 200, filler: int = 0, workdir: Path | None = None
) -> dict[str, Any]:
    """Measure one mode; its row (never raises for a failed measurement: ``error`` set)."""
    m = Mode(mode, filler, workdir)
    cold = mode == "pg-cold"
    pool = runs * (requests // 2) if cold else 0
    row: dict[str, Any] = {
        "mode": m.name,
        "base_mode": mode,
        "filler_keys": filler,
        "label": LABELS[mode] + (f", {filler:,} more keys" if filler else ""),
        "target": TARGETS[mode],
    }
    started = time.perf_counter()
    try:
        with m:
            creds = m.dir / f"{m.tag}-creds.json"
            try:
                made = m.step(
                    "setup", "--out", str(creds), "--keys", str(keys), "--pool", str(pool), "--filler", str(filler)
                )
                row["setup_seconds"] = made["seconds"]
                if cold:
                    row["verified_by_other_process"] = m.step("verify", "--creds", str(creds))["verified"]
                    row["redis_cache_keys_after_verify"] = m.redis_keys()
                args = [
                    "measure",
                    "--creds",
                    str(creds),
                    "--runs",
                    str(runs),
                    "--requests",
                    str(requests),
                    "--warmup",
                    str(warmup),
                ]
                extra = (["--cold"] if cold else []) + ["--floor"] + (["--floor-rt"] if m.backend == "pg" else [])
                row.update(m.step(*args, *extra))
            finally:
                creds.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - reported in the row and the table
        row["error"] = str(exc)
    row["seconds"] = round(time.perf_counter() - started, 1)
    if "ratio_median_of_runs" in row:
        row["pass"] = bool(row["all_200"]) and row["ratio_median_of_runs"] <= row["target"]
    return row


# --- report -------------------------------------------------------------------------------------
HEADER = (
    "| mode | open µs (median) | validate µs (median) | ratio (median of runs) | spread (runs) | target | "
    "| floor (free key check) | floor + one round trip waited for |"
)
RULE = "|---|---:|---:|---:|---:|---:|---|---:|---:|"


def table_row(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"| {row['mode']} | – | – | – | – | ≤ {row['target']}× | ERROR (see {RESULTS / 'ratios.json'}) | | |"
    verdict = "PASS" if row["pass"] else ("FAIL" if row["all_200"] else f"FAIL (non-200: {row['statuses']})")
    return (
        f"| {row['mode']} | {row['open_us_median']:.0f} | {row['validate_us_median']:.0f} | {row['ratio_median_of_runs']:.2f}× "
        f"| {row['ratio_min']:.2f}–{row['ratio_max']:.2f}× | ≤ {row['target']}× | {verdict} | {_floor(row, 'floor')} | {_floor(row, 'floor_rt')} |"
    )


def _floor(row: dict[str, Any], name: str) -> str:
    if f"{name}_ratio_median_of_runs" not in row:
        return "–"
    return f"{row[f'{name}_ratio_median_of_runs']:.2f}× ({row[f'{name}_us_median']:.0f} µs)"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [HEADER, RULE, *(table_row(r) for r in rows)]
    base = {r["mode"]: r for r in rows if not r.get("filler_keys")}
    for r in rows:
        small = base.get(r.get("base_mode", ""))
        if r.get("filler_keys") and small and "error" not in r and "error" not in small:
            lines.append(
                f"Flatness, {r['base_mode']}: validate ÷ open {r['ratio_median_of_runs']:.2f}× with {r['filler_keys']:,} more keys "
                f"vs {small['ratio_median_of_runs']:.2f}× without (validate {r['validate_us_median']:.0f} vs {small['validate_us_median']:.0f} µs)."
            )
    return "\n".join(lines)


def resolve_modes(spec: str) -> list[str]:
    if spec == "auto":
        if services_up():
            return ["sqlite", "pg", "pg-cold"]
        log("PostgreSQL or Redis not answering: SQLite only")
        return ["sqlite"]
    modes = [m.strip() for m in spec.split(",") if m.strip()]
    unknown = set(modes) - set(TARGETS)
    if unknown:
        raise SystemExit(f"bench.ratio: unknown mode(s) {sorted(unknown)}; choose from {sorted(TARGETS)}")
    return modes


def run(
    modes: list[str],
    runs: int,
    requests: int,
    keys: int = 12,
    warmup: int = 200,
    filler: int = 0,
    out: Path | None = None,
) -> dict[str, Any]:
    out = out or RESULTS / "ratios.json"
    workdir = out.parent / "ratio"
    rows: list[dict[str, Any]] = []
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.75 * cpus:
        log(f"WARNING: load average {load:.1f} on {cpus} CPUs: other work shares the machine, timings will be noisy")
    print(HEADER, flush=True)
    print(RULE, flush=True)
    plan: list[tuple[str, int]] = [(m, 0) for m in modes]
    if filler:
        plan += [(m, filler) for m in modes if m in ("sqlite", "pg")]
    for mode, fill in plan:
        log(f"{mode}{f' with {fill:,} more keys' if fill else ''}: {runs} run(s) × {requests} requests")
        row = run_mode(mode, runs, requests, keys, warmup, fill, workdir)
        rows.append(row)
        print(table_row(row), flush=True)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "method": (
            "in-process, full WSGI stack of bench.settings (tater.settings + the open view's URL), DJANGO_DEBUG=0, "
            f"{runs} run(s) of {requests} requests alternating open (/api/bench/open, an APIView without authentication, "
            f"permissions or throttles) and GET /api/v1/auth/validate; {keys} keys of an enterprise tenant in turn "
            "(pg-cold: a pool key per validate request, verified by another process first); every body read; "
            "per run median validate ÷ median open"
        ),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "rows": rows,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--modes", default="auto", help="auto (sqlite; pg and pg-cold when PostgreSQL and Redis answer) or a list"
    )
    parser.add_argument("--runs", type=int, default=None, help="runs per mode (5; --quick: 1)")
    parser.add_argument(
        "--requests", type=int, default=None, help="requests per run, open and validate alternating (400; --quick: 200)"
    )
    parser.add_argument("--keys", type=int, default=12, help="keys presented in turn (warm modes)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed open+validate pairs first (200; --quick: 50)")
    parser.add_argument("--filler", type=int, default=0, help="also sqlite and pg with this many more keys (flatness)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1 run of 200 requests, 50 warm-up pairs (unless given)"
    )
    parser.add_argument("--out", default="", help=f"JSON result (default {RESULTS / 'ratios.json'})")
    args = parser.parse_args()
    defaults = (1, 200, 50) if args.quick else (5, 400, 200)
    args.runs = args.runs if args.runs is not None else defaults[0]
    args.requests = args.requests if args.requests is not None else defaults[1]
    args.warmup = args.warmup if args.warmup is not None else defaults[2]
    result = run(
        resolve_modes(args.modes),
        args.runs,
        args.requests,
        args.keys,
        args.warmup,
        args.filler,
        Path(args.out) if args.out else None,
    )
    log(f"results: {args.out or RESULTS / 'ratios.json'}")
    if any("error" in r for r in result["rows"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
