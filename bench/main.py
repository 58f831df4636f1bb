"""Tater's performance bench (issue 9). Started by ``bash bench/run``; see ``--help``.

1. The bars, in-process (bench.ratio): ``GET /api/v1/auth/validate`` against an open DRF
   view through the full WSGI stack of the app's own settings, DEBUG off, 12 keys of an
   enterprise tenant in turn, 5 runs of 400 alternating requests; modes SQLite + in-process
   (warm), PostgreSQL + Redis (warm) and PostgreSQL + Redis cold (process memo miss,
   principal in Redis) when both services answer. ``--full``: the warm modes again with
   1,000,000 more keys (flatness). Writes bench/results/ratios.json.
2. Reference figures over HTTP, per backend (skipped by ``--no-http`` and ``--quick``): a
   fresh database seeded by bench.seed; gunicorn on loopback serving bench.wsgi (settings
   bench.settings_peers: the two Django peers, a raised rate-limit plan), driven by wrk (or
   bench.loadgen) from a second process, the four endpoints interleaved in rounds; then a
   stale-cache probe: two workers, a key revoked through the API, then fresh connections
   with that key (every one must be refused).
Writes bench/results/latest.json and latest.md, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import ratio

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DATA = RESULTS / "db"
PY = sys.executable
HOST, PORT = "127.0.0.1", 8765
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB = "tater_bench"
REDIS_URL = "redis://127.0.0.1:6379/6"

# name, path, header template (filled from the seed's credentials)
ENDPOINTS: list[tuple[str, str, str | None]] = [
    ("open", "/api/bench/open", None),
    ("tater-validate", "/api/v1/auth/validate", "X-API-Key: {tater_key}"),
    ("drf-token", "/api/bench/drf-token", "Authorization: Token {drf_token}"),
    ("api-key-lib", "/api/bench/api-key-lib", "Authorization: Api-Key {api_key_lib}"),
]
LABELS = {"sqlite": "SQLite + locmem (embedded default)", "pg": "PostgreSQL + Redis"}


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --- environments ---------------------------------------------------------------------
def base_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "SQLITE_PATH", "TATER_TESTING"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings_peers",
        DJANGO_DEBUG="0",  # production-like: no query log, no debug pages
        SECRET_KEY="bench-" + secrets.token_hex(24),
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def backend_env(backend: str) -> dict[str, str]:
    env = base_env()
    if backend == "sqlite":
        env["SQLITE_PATH"] = str(DATA / "sqlite.sqlite3")
    else:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_DB}"
        env["REDIS_URL"] = REDIS_URL
        env["CACHE_KEY_PREFIX"] = "tater-bench"
    return env


def fresh_database(backend: str) -> None:
    if backend == "sqlite":
        path = Path(backend_env(backend)["SQLITE_PATH"])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg
    import redis

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DB}"')
    redis.Redis.from_url(REDIS_URL).flushdb()


def drop_database(backend: str) -> None:
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(backend_env(backend)["SQLITE_PATH"] + suffix).unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')


def seed(backend: str, keys: int, audit: int) -> dict[str, Any]:
    fresh_database(backend)
    out = DATA / f"{backend}-creds.json"
    started = time.perf_counter()
    subprocess.run(
        [PY, "-m", "bench.seed", "--out", str(out), "--keys", str(keys), "--audit", str(audit)],
        env=backend_env(backend),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    log(
        f"{backend}: migrated and seeded {keys:,} keys, {audit:,} audit entries in {time.perf_counter() - started:.0f} s"
    )
    return json.loads(out.read_text())


# --- the server -----------------------------------------------------------------------
class Server:
    """gunicorn on loopback: ``workers`` processes of one gthread thread each (keep-alive,
    so wrk measures requests, not TCP handshakes)."""

    def __init__(self, backend: str, workers: int) -> None:
        self.backend, self.workers = backend, workers
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = RESULTS / f"gunicorn-{backend}.log"

    def __enter__(self) -> Server:
        if ratio.port_open(HOST, PORT):
            raise SystemExit(f"bench: something already listens on {HOST}:{PORT}")
        gunicorn = str(Path(PY).parent / "gunicorn")
        cmd = [
            gunicorn,
            "bench.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "gthread",
            "--threads",
            "1",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT),
        ]
        self.logfile = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            cmd, env=backend_env(self.backend), cwd=ROOT, stdout=self.logfile, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{PORT}/api/bench/open", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise SystemExit(f"bench: gunicorn did not answer within 60 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


def http(method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
    request = urllib.request.Request(
        f"http://{HOST}:{PORT}{path}", method=method, headers={**headers, "Connection": "close"}
    )  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            return r.status, json.loads(r.read() or b"{}"), dict(r.headers)
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = {"raw": body[:200].decode(errors="replace")}
        return e.code, data, dict(e.headers)


def header_of(template: str | None, creds: dict[str, Any]) -> dict[str, str]:
    if template is None:
        return {}
    name, value = template.format(**creds).split(": ", 1)
    return {name: value}


# --- load -------------------------------------------------------------------------------
def drive(path: str, headers: dict[str, str], duration: float, connections: int) -> dict[str, Any]:
    url = f"http://{HOST}:{PORT}{path}"
    if shutil.which("wrk"):
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "-s", str(BENCH / "report.lua"), url]
    else:
        cmd = [PY, "-m", "bench.loadgen", "--url", url, "-d", str(duration), "-c", str(connections)]
    for name, value in headers.items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=base_env(), check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd[:6])} failed ({done.returncode}): {done.stderr or done.stdout}")
    out = done.stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise SystemExit(f"bench: load generator printed no result:\n{out}")
    data = json.loads(line.split(" ", 1)[1])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def load_rounds(creds: dict[str, Any], rounds: int, duration: float, connections: int) -> dict[str, Any]:
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in ENDPOINTS}
    for _name, path, template in ENDPOINTS:  # warm-up, untimed
        drive(path, header_of(template, creds), 1, connections)
    for r in range(rounds):
        order = ENDPOINTS if r % 2 == 0 else list(reversed(ENDPOINTS))
        for name, path, template in order:
            samples[name].append(drive(path, header_of(template, creds), duration, connections))
        log(f"  round {r + 1}/{rounds}: " + ", ".join(f"{n} {samples[n][-1]['rps']:.0f}/s" for n, _, _ in ENDPOINTS))
    open_rps = statistics.median(s["rps"] for s in samples["open"])
    out: dict[str, Any] = {}
    for name, values in samples.items():
        rps = statistics.median(s["rps"] for s in values)
        out[name] = {
            "rps": round(rps, 1),
            "rps_rounds": [round(s["rps"], 1) for s in values],
            "p50_ms": round(statistics.median(s["p50_us"] for s in values) / 1000, 3),
            "p99_ms": round(statistics.median(s["p99_us"] for s in values) / 1000, 3),
            "ratio": round(open_rps / rps, 3),  # per-request cost relative to the open endpoint
            # The same, paired per round (open and the endpoint measured seconds apart):
            # steadier than the ratio of medians when the machine's load drifts.
            "ratio_paired": round(
                statistics.median(o["rps"] / s["rps"] for o, s in zip(samples["open"], values, strict=True)), 3
            ),
            "non_2xx": sum(s["errors_status"] for s in values),
            "socket_errors": sum(
                s["errors_connect"] + s["errors_read"] + s["errors_write"] + s["errors_timeout"] for s in values
            ),
        }
    return out


def stale_probe(creds: dict[str, Any], backend: str) -> dict[str, Any]:
    """Two workers; every worker has the victim key cached; revoke it through the API (one
    worker handles that); then fresh connections: none may still be admitted."""
    victim = {"X-API-Key": creds["victim_key"]}
    admin = {"X-API-Key": creds["tater_key"], "Content-Type": "application/json"}
    with Server(backend, workers=2):
        before = [http("GET", "/api/v1/auth/validate", victim)[0] for _ in range(40)]
        status, body, _ = http("POST", f"/api/v1/keys/{creds['victim_key_id']}/revoke/", admin)
        after = [http("GET", "/api/v1/auth/validate", victim)[0] for _ in range(40)]
    return {
        "workers": 2,
        "before_revoke_200": before.count(200),
        "revoke_status": status,
        "revoke_error": None if status == 200 else body,
        "after_revoke_200_stale": after.count(200),
        "after_revoke_statuses": {str(s): after.count(s) for s in sorted(set(after))},
        "requests_after": len(after),
    }


# --- report ---------------------------------------------------------------------------------
def http_table(results: dict[str, Any]) -> str:
    """The HTTP load rounds (throughput and the peers; reference figures, not the bars)."""
    lines: list[str] = []
    for backend, res in results["backends"].items():
        httpr = res.get("http")
        if not httpr:
            continue
        lines.append(f"### HTTP load: {LABELS[backend]}")
        lines.append("")
        lines.append("| endpoint | req/s | p50 ms | p99 ms | cost ratio to open (HTTP: medians / paired rounds) |")
        lines.append("|---|---:|---:|---:|---:|")
        for name, _, _ in ENDPOINTS:
            h = httpr.get(name)
            if h:
                lines.append(
                    f"| {name} | {h['rps']:,.0f} | {h['p50_ms']:.2f} | {h['p99_ms']:.2f} | {h['ratio']:.2f}× / {h['ratio_paired']:.2f}× |"
                )
        bad = {n: (v["non_2xx"], v["socket_errors"]) for n, v in httpr.items() if v["non_2xx"] or v["socket_errors"]}
        if bad:
            lines.append(f"WARNING non-2xx / socket errors during load: {bad}")
        sp = res.get("stale_probe")
        if sp:
            lines.append("")
            lines.append(
                f"Stale-cache probe ({sp['workers']} workers): revoke → {sp['revoke_status']}; "
                f"{sp['after_revoke_200_stale']} of {sp['requests_after']} later requests with the revoked key were still admitted "
                f"({'no stale window' if sp['after_revoke_200_stale'] == 0 else 'STALE'}); statuses {sp['after_revoke_statuses']}."
            )
        lines.append("")
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
    lines = ["### In-process ratio: GET /api/v1/auth/validate ÷ an open DRF view (the bars)", ""]
    lines.append(ratio.table(results["ratios"]["rows"]) if results.get("ratios") else "(not run)")
    lines.append("")
    return "\n".join(lines) + "\n" + http_table(results)


def main() -> None:
    parser = argparse.ArgumentParser(description="Tater performance bench (issue 9)")
    parser.add_argument(
        "--backends",
        default="auto",
        help="auto | sqlite | pg | sqlite,pg (auto: pg only when PostgreSQL and Redis answer)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: the in-process ratio only, 1 run of 200 requests per mode"
    )
    parser.add_argument("--ratio-runs", type=int, default=5, help="in-process ratio: runs per mode")
    parser.add_argument(
        "--ratio-requests",
        type=int,
        default=400,
        help="in-process ratio: requests per run (open and validate alternating)",
    )
    parser.add_argument(
        "--ratio-keys", type=int, default=12, help="in-process ratio: keys presented in turn (warm modes)"
    )
    parser.add_argument(
        "--full", action="store_true", help="flatness: the warm ratio modes again with 1,000,000 more keys"
    )
    parser.add_argument(
        "--big-keys", type=int, default=0, help="flatness with this many more keys (1,000,000 by --full)"
    )
    parser.add_argument("--no-ratio", action="store_true", help="skip the in-process ratio")
    parser.add_argument(
        "--rounds", type=int, default=8, help="HTTP load rounds (endpoints interleaved, order alternating)"
    )
    parser.add_argument(
        "--duration", type=int, default=2, help="whole seconds per endpoint per round (wrk takes no fractions)"
    )
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (1 thread)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers for the load rounds")
    parser.add_argument("--keys", type=int, default=1_000, help="extra keys in the HTTP load data set")
    parser.add_argument("--audit", type=int, default=10_000, help="audit entries in the HTTP load data set")
    parser.add_argument("--no-http", action="store_true", help="skip gunicorn + wrk (in-process ratio only)")
    parser.add_argument("--no-stale-probe", action="store_true")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="adjust the bench's scheduling priority (e.g. -5 as root on a shared, busy machine)",
    )
    parser.add_argument("--report", action="store_true", help="only re-print the table of bench/results/latest.json")
    args = parser.parse_args()
    if args.report:
        print(table(json.loads((RESULTS / "latest.json").read_text())))
        return
    if args.nice:
        os.nice(args.nice)  # inherited by gunicorn, wrk and the in-process runs
    runs, requests, warmup = (1, 200, 50) if args.quick else (args.ratio_runs, args.ratio_requests, 200)
    if args.quick:
        args.no_http = True
    if args.full:
        args.big_keys = args.big_keys or 1_000_000
    DATA.mkdir(parents=True, exist_ok=True)

    services_up = ratio.port_open("127.0.0.1", 5432) and ratio.port_open("127.0.0.1", 6379)
    if args.backends == "auto":
        backends = ["sqlite"] + (["pg"] if services_up else [])
        if not services_up:
            log("PostgreSQL or Redis not answering: SQLite + locmem only")
    else:
        backends = args.backends.split(",")
    modes = [m for b in backends for m in (["sqlite"] if b == "sqlite" else ["pg", "pg-cold"])]
    started = time.perf_counter()
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_avg_start": os.getloadavg(),
        },
        "config": {
            "ratio": f"in-process, {runs} run(s) × {requests} alternating requests per mode, {args.ratio_keys} keys in turn (bench.ratio)",
            "server": f"gunicorn, {args.workers} worker(s), gthread with 1 thread, keep-alive; DEBUG off; the app's middleware",
            "load": (
                f"wrk -t1 -c{args.connections}"
                if shutil.which("wrk")
                else f"bench.loadgen (Python), {args.connections} connections"
            )
            + f", {args.rounds} rounds × {args.duration:g} s per endpoint, order alternating",
            "argv": sys.argv[1:],
        },
        "backends": {},
    }
    if not args.no_ratio:
        log(f"== in-process ratio: {', '.join(modes)}{f' (+ {args.big_keys:,} keys)' if args.big_keys else ''} ==")
        results["ratios"] = ratio.run(modes, runs, requests, args.ratio_keys, warmup, args.big_keys)
    if not args.no_http:
        for backend in backends:
            log(f"== HTTP load: {LABELS[backend]} ==")
            creds = seed(backend, args.keys, args.audit)
            res: dict[str, Any] = {"seed": creds["seed_seconds"]}
            try:
                with Server(backend, args.workers):
                    log(f"{backend}: load rounds ({args.rounds} × {len(ENDPOINTS)} endpoints × {args.duration:g} s)")
                    res["http"] = load_rounds(creds, args.rounds, args.duration, args.connections)
                if not args.no_stale_probe:
                    res["stale_probe"] = stale_probe(creds, backend)
            finally:
                drop_database(backend)
            results["backends"][backend] = res
    results["seconds"] = round(time.perf_counter() - started)
    results["machine"]["load_avg_end"] = os.getloadavg()
    md = table(results)
    header = (
        f"Run {results['when']} on {results['machine']['cpus']} CPUs, Python {results['machine']['python']}; "
        f"{results['config']['ratio']}"
        + ("" if args.no_http else f"; HTTP: {results['config']['server']}; {results['config']['load']}")
        + ".\n\n"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    (RESULTS / "latest.md").write_text(header + md)
    print()
    print(header + md)
    print(
        f"(results: {RESULTS / 'ratios.json'}, {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'}; {results['seconds']} s)"
    )
    if any("error" in r for r in results.get("ratios", {}).get("rows", [])):
        sys.exit(1)


if __name__ == "__main__":
    main()
