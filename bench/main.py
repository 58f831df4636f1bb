"""Tater's performance bench (issue 9). Started by ``bash bench/run``; see ``--help``.

For each backend (SQLite + locmem always; PostgreSQL + Redis when both answer):
1. a fresh database, migrated and seeded (bench.seed);
2. gunicorn on loopback serving bench.wsgi, driven by wrk (or bench.loadgen) from a
   second process: the four endpoints interleaved in rounds, alternating order;
3. a stale-cache probe: two workers, a key revoked through the API, then fresh
   connections with that key (every one must be refused);
4. in-process timings through the WSGI handler, query counts, cache round trips and a
   profile (bench.inproc);
5. with ``--full`` (or ``--big-keys``): flatness, 1,000 vs 1,000,000 keys and 10,000 vs
   1,000,000 audit entries, measured in-process on two databases interleaved.
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
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
DATA = RESULTS / "db"
PY = sys.executable
HOST, PORT = "127.0.0.1", 8765
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_DB, PG_BIG_DB = "tater_bench", "tater_bench_big"
REDIS_URL = "redis://127.0.0.1:6379/6"

# name, path, header template (filled from the seed's credentials)
ENDPOINTS: list[tuple[str, str, str | None]] = [
    ("open", "/api/v1/health", None),
    ("tater-validate", "/api/v1/auth/validate", "X-API-Key: {tater_key}"),
    ("drf-token", "/api/bench/drf-token", "Authorization: Token {drf_token}"),
    ("api-key-lib", "/api/bench/api-key-lib", "Authorization: Api-Key {api_key_lib}"),
]
BARS = {"sqlite": 1.15, "pg": 1.3}
LABELS = {"sqlite": "SQLite + locmem (embedded default)", "pg": "PostgreSQL + Redis"}


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        try:
            s.connect((host, port))
        except OSError:
            return False
    return True


# --- environments ---------------------------------------------------------------------
def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "SQLITE_PATH", "TATER_TESTING"}}
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",  # production-like: no query log, no debug pages
        SECRET_KEY="bench-" + secrets.token_hex(24),
        SECURE_SSL_REDIRECT="0",  # plain HTTP on loopback
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def backend_env(backend: str, big: bool = False) -> dict[str, str]:
    env = base_env()
    if backend == "sqlite":
        env["SQLITE_PATH"] = str(DATA / ("sqlite-big.sqlite3" if big else "sqlite.sqlite3"))
    else:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{PG_BIG_DB if big else PG_DB}"
        env["REDIS_URL"] = REDIS_URL
        env["CACHE_KEY_PREFIX"] = "tater-bench"
    return env


def fresh_database(backend: str, big: bool = False) -> None:
    if backend == "sqlite":
        path = Path(backend_env(backend, big)["SQLITE_PATH"])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    import psycopg
    import redis

    name = PG_BIG_DB if big else PG_DB
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    if not big:
        redis.Redis.from_url(REDIS_URL).flushdb()


def seed(backend: str, keys: int, audit: int, big: bool = False) -> dict[str, Any]:
    fresh_database(backend, big)
    out = DATA / f"{backend}{'-big' if big else ''}-creds.json"
    started = time.perf_counter()
    subprocess.run(
        [PY, "-m", "bench.seed", "--out", str(out), "--keys", str(keys), "--audit", str(audit)],
        env=backend_env(backend, big), cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    log(f"{backend}{' big' if big else ''}: migrated and seeded {keys:,} keys, {audit:,} audit entries in {time.perf_counter() - started:.0f} s")
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
        if port_open(HOST, PORT):
            raise SystemExit(f"bench: something already listens on {HOST}:{PORT}")
        gunicorn = str(Path(PY).parent / "gunicorn")
        cmd = [
            gunicorn, "bench.wsgi:application", "--bind", f"{HOST}:{PORT}", "--workers", str(self.workers),
            "--worker-class", "gthread", "--threads", "1", "--keep-alive", "30", "--log-level", "warning",
            "--chdir", str(ROOT),
        ]
        self.logfile = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(cmd, env=backend_env(self.backend), cwd=ROOT, stdout=self.logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: gunicorn exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{PORT}/api/v1/health", timeout=2) as r:  # noqa: S310
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
    request = urllib.request.Request(f"http://{HOST}:{PORT}{path}", method=method, headers={**headers, "Connection": "close"})  # noqa: S310
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
            "ratio_paired": round(statistics.median(o["rps"] / s["rps"] for o, s in zip(samples["open"], values, strict=True)), 3),
            "non_2xx": sum(s["errors_status"] for s in values),
            "socket_errors": sum(s["errors_connect"] + s["errors_read"] + s["errors_write"] + s["errors_timeout"] for s in values),
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


# --- in-process ---------------------------------------------------------------------------
def inproc(backend: str, creds_path: Path, args: argparse.Namespace, big_creds: Path | None) -> dict[str, Any]:
    out = RESULTS / f"inproc-{backend}.json"
    cmd = [PY, "-m", "bench.inproc", "--creds", str(creds_path), "--out", str(out), "--rounds", str(args.wsgi_rounds), "--batch", str(args.wsgi_batch)]
    if not args.no_profile:
        cmd += ["--profile", str(RESULTS / f"profile-{backend}")]
    env = backend_env(backend)
    if big_creds is not None:
        cmd += ["--big-creds", str(big_creds)]
        big_env = backend_env(backend, big=True)
        if backend == "sqlite":
            env["BENCH_BIG_SQLITE_PATH"] = big_env["SQLITE_PATH"]
        else:
            env["BENCH_BIG_DATABASE_URL"] = big_env["DATABASE_URL"]
    subprocess.run(cmd, env=env, cwd=ROOT, check=True)
    return json.loads(out.read_text())


# --- report ---------------------------------------------------------------------------------
def verdict(value: float, bar: float) -> str:
    return "PASS" if value <= bar else "FAIL"


def table(results: dict[str, Any]) -> str:
    lines: list[str] = []
    for backend, res in results["backends"].items():
        bar = BARS[backend]
        httpr, wsgi = res.get("http", {}), res["inproc"]["wsgi"]
        lines.append(f"### {LABELS[backend]}")
        lines.append("")
        lines.append(
            "| endpoint | req/s | p50 ms | p99 ms | cost ratio (HTTP: medians / paired rounds) "
            "| µs/request (WSGI, min) | cost ratio (WSGI: paired rounds) | (WSGI: min) | (WSGI: median) |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        rendered = "tater-validate (answer rendered per request)"
        floors = [n for n in wsgi if n.startswith("open ") or n.startswith("open,")]
        for name in [n for n, _, _ in ENDPOINTS] + [rendered, "tater-validate (cold cache)", *floors]:
            h = httpr.get(name)
            w = wsgi.get(name)
            if w is None:
                continue
            cells = (
                [f"{h['rps']:,.0f}", f"{h['p50_ms']:.2f}", f"{h['p99_ms']:.2f}", f"{h['ratio']:.2f}× / {h['ratio_paired']:.2f}×"]
                if h
                else ["–", "–", "–", "–"]
            )
            flag = ""
            paired = w.get("ratio_paired", w["ratio_min"])
            if name == "tater-validate":
                flag = f" (bar ≤ {bar}×: HTTP {verdict(h['ratio_paired'], bar) if h else 'n/a'}, WSGI {verdict(paired, bar)})"
            elif name == rendered:
                size = {n: v.get("bytes", "?") for n, v in res["inproc"].get("responses", {}).items()}
                flag = (
                    f" (reference, not a bar: validate's {size.get('tater-validate', '?')}-byte answer rendered per request "
                    f"where open renders {size.get('open', '?')} bytes; {'within' if paired <= bar else 'over'} {bar}×)"
                )
            elif name in floors:
                flag = " (platform floor, not an endpoint)"
            lines.append(
                f"| {name}{flag} | " + " | ".join(cells)
                + f" | {w['min_us']:.0f} | {paired:.2f}× | {w['ratio_min']:.2f}× | {w['ratio_median']:.2f}× |"
            )
        q = res["inproc"]["queries"]
        lines.append("")
        lines.append(
            f"Tater endpoint: {q['cold_queries']} quer{'y' if q['cold_queries'] == 1 else 'ies'} on a cold cache, "
            f"{q['warm_queries']} warm ({q['warm_queries_per_request']} per request over {q['warm_requests_counted']}); "
            f"database writes in those {q['warm_requests_counted']} warm requests: {q['writes_in_warm_requests']}; "
            f"cache operations per warm request: {q['cache_ops_per_warm_request'] or 'none'}"
            + (f"; Redis round trips per warm request: {q['redis_round_trips_per_warm_request']}" if backend == "pg" else "")
            + "."
        )
        rl = res["inproc"]["responses"]["tater-validate"]["ratelimit"]
        lines.append(f"Rate limiter on the Tater endpoint: {'on (' + ', '.join(f'{k}: {v}' for k, v in rl.items()) + ')' if rl else 'NO X-RateLimit headers seen'}.")
        if httpr:
            bad = {n: (v["non_2xx"], v["socket_errors"]) for n, v in httpr.items() if v["non_2xx"] or v["socket_errors"]}
            if bad:
                lines.append(f"WARNING non-2xx / socket errors during load: {bad}")
        sp = res.get("stale_probe")
        if sp:
            lines.append(
                f"Stale-cache probe ({sp['workers']} workers): revoke → {sp['revoke_status']}; "
                f"{sp['after_revoke_200_stale']} of {sp['requests_after']} later requests with the revoked key were still admitted "
                f"({'no stale window' if sp['after_revoke_200_stale'] == 0 else 'STALE'}); statuses {sp['after_revoke_statuses']}."
            )
        flat = res["inproc"].get("flatness")
        if flat:
            lines.append("")
            lines.append(f"Flatness ({flat['small']['keys']:,} vs {flat['big']['keys']:,} keys; {flat['small']['audit_rows']:,} vs {flat['big']['audit_rows']:,} audit entries):")
            lines.append("")
            lines.append("| request | small µs (median) | big µs (median) | big/small (paired rounds) | (median) | (min) | bar |")
            lines.append("|---|---:|---:|---:|---:|---:|---|")
            bars = {"cold": ("key verification, cold cache", 1.10), "warm": ("key verification, warm cache", 1.10), "audit": ("audit-log page", 1.20)}
            for kind, (label, b) in bars.items():
                if kind in flat:
                    f = flat[kind]
                    paired = f.get("big_over_small_paired", f["big_over_small_median"])
                    lines.append(
                        f"| {label} | {f['small_median_us']:.0f} | {f['big_median_us']:.0f} | {paired:.2f}× "
                        f"| {f['big_over_small_median']:.2f}× | {f['big_over_small_min']:.2f}× | ≤ {b}× {verdict(paired, b)} |"
                    )
            if "audit" not in flat:
                lines.append(f"| audit-log page | – | – | – | – | – | {flat['audit_endpoint']} {flat.get('audit_status') or ''} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Tater performance bench (issue 9)")
    parser.add_argument("--backends", default="auto", help="auto | sqlite | pg | sqlite,pg (auto: pg only when PostgreSQL and Redis answer)")
    parser.add_argument("--rounds", type=int, default=8, help="load rounds (endpoints interleaved, order alternating)")
    parser.add_argument("--duration", type=int, default=2, help="whole seconds per endpoint per round (wrk takes no fractions)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (1 thread)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers for the load rounds")
    parser.add_argument("--keys", type=int, default=1_000, help="extra keys in the main data set")
    parser.add_argument("--audit", type=int, default=10_000, help="audit entries in the main data set")
    parser.add_argument("--full", action="store_true", help="flatness runs with 1,000,000 keys and audit entries")
    parser.add_argument("--big-keys", type=int, default=0, help="flatness run with this many keys (implied 1,000,000 by --full)")
    parser.add_argument("--big-audit", type=int, default=0, help="flatness run with this many audit entries (1,000,000 by --full)")
    parser.add_argument("--wsgi-rounds", type=int, default=120)
    parser.add_argument("--wsgi-batch", type=int, default=25)
    parser.add_argument("--no-http", action="store_true", help="skip gunicorn + wrk (in-process only)")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-stale-probe", action="store_true")
    parser.add_argument("--nice", type=int, default=0, help="adjust the bench's scheduling priority (e.g. -5 as root on a shared, busy machine)")
    parser.add_argument("--report", action="store_true", help="only re-print the table of bench/results/latest.json")
    args = parser.parse_args()
    if args.report:
        results = json.loads((RESULTS / "latest.json").read_text())
        for res in results["backends"].values():
            rounds = res.get("http", {})
            for v in rounds.values():
                v.setdefault("ratio_paired", round(statistics.median(o / e for o, e in zip(rounds["open"]["rps_rounds"], v["rps_rounds"], strict=True)), 3))
        print(table(results))
        return
    if args.nice:
        os.nice(args.nice)  # inherited by gunicorn, wrk and the in-process runs
    if args.full:
        args.big_keys = args.big_keys or 1_000_000
        args.big_audit = args.big_audit or 1_000_000
    if args.big_keys and not args.big_audit:
        args.big_audit = args.big_keys
    DATA.mkdir(parents=True, exist_ok=True)

    services_up = port_open("127.0.0.1", 5432) and port_open("127.0.0.1", 6379)
    if args.backends == "auto":
        backends = ["sqlite"] + (["pg"] if services_up else [])
        if not services_up:
            log("PostgreSQL or Redis not answering: SQLite + locmem only")
    else:
        backends = args.backends.split(",")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(), "load_avg_start": os.getloadavg()},
        "config": {
            "server": f"gunicorn, {args.workers} worker(s), gthread with 1 thread, keep-alive; DEBUG off; the app's middleware",
            "load": (f"wrk -t1 -c{args.connections}" if shutil.which("wrk") else f"bench.loadgen (Python), {args.connections} connections")
            + f", {args.rounds} rounds × {args.duration:g} s per endpoint, order alternating",
            "wsgi": f"{args.wsgi_rounds} rounds × {args.wsgi_batch} requests per endpoint, interleaved, order alternating; "
            "median of per-round ratios to the open endpoint, min and median of batch means",
            "argv": sys.argv[1:],
        },
        "backends": {},
    }
    for backend in backends:
        log(f"== {LABELS[backend]} ==")
        creds = seed(backend, args.keys, args.audit)
        creds_path = DATA / f"{backend}-creds.json"
        res: dict[str, Any] = {"seed": creds["seed_seconds"]}
        if not args.no_http:
            with Server(backend, args.workers):
                log(f"{backend}: load rounds ({args.rounds} × {len(ENDPOINTS)} endpoints × {args.duration:g} s)")
                res["http"] = load_rounds(creds, args.rounds, args.duration, args.connections)
            if not args.no_stale_probe:
                res["stale_probe"] = stale_probe(creds, backend)
        big_creds = None
        if args.big_keys:
            seed(backend, args.big_keys, args.big_audit, big=True)
            big_creds = DATA / f"{backend}-big-creds.json"
        log(f"{backend}: in-process measurements{' + profile' if not args.no_profile else ''}{' + flatness' if big_creds else ''}")
        res["inproc"] = inproc(backend, creds_path, args, big_creds)
        results["backends"][backend] = res
    results["seconds"] = round(time.perf_counter() - started)
    results["machine"]["load_avg_end"] = os.getloadavg()
    md = table(results)
    header = (
        f"Run {results['when']} on {results['machine']['cpus']} CPUs, Python {results['machine']['python']}; "
        f"{results['config']['server']}; {results['config']['load']}; in-process: {results['config']['wsgi']}. "
        f"Cost ratio = per-request cost ÷ the open endpoint's (HTTP: req/s of open ÷ req/s of the endpoint).\n\n"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    (RESULTS / "latest.md").write_text(header + md)
    print()
    print(header + md)
    print(f"(results: {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'}; {results['seconds']} s)")


if __name__ == "__main__":
    main()
