"""Fallback load generator when wrk is not installed: keep-alive HTTP/1.1 clients in
threads of this (separate) process, printing the same BENCHJSON line as bench/report.lua.

``python -m bench.loadgen --url http://127.0.0.1:8765/api/v1/health -H "X-API-Key: ..." -d 3 -c 4``
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from urllib.parse import urlsplit


def worker(
    host: str, port: int, path: str, headers: dict[str, str], stop_at: float, out: list[float], errors: dict[str, int]
) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=10)
    perf = time.perf_counter
    while True:
        started = perf()
        if started >= stop_at:
            break
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 400:
                errors["status"] += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
        except (OSError, http.client.HTTPException):
            errors["read"] += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=10)
            continue
        out.append(perf() - started)
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("-d", "--duration", type=float, default=3.0)
    parser.add_argument("-c", "--connections", type=int, default=4)
    args = parser.parse_args()
    parts = urlsplit(args.url)
    headers = dict(h.split(": ", 1) for h in args.header)
    latencies: list[list[float]] = [[] for _ in range(args.connections)]
    errors = {"status": 0, "read": 0}
    started = time.perf_counter()
    stop_at = started + args.duration
    threads = [
        threading.Thread(
            target=worker, args=(parts.hostname, parts.port or 80, parts.path, headers, stop_at, latencies[i], errors)
        )
        for i in range(args.connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for per in latencies for x in per)

    def pct(p: float) -> int:
        return int(flat[min(len(flat) - 1, int(len(flat) * p / 100))] * 1e6) if flat else 0

    print(
        "BENCHJSON "
        + json.dumps(
            {
                "requests": len(flat),
                "duration_us": int(elapsed * 1e6),
                "errors_status": errors["status"],
                "errors_connect": 0,
                "errors_read": errors["read"],
                "errors_write": 0,
                "errors_timeout": 0,
                "p50_us": pct(50),
                "p90_us": pct(90),
                "p99_us": pct(99),
                "mean_us": (sum(flat) / len(flat) * 1e6) if flat else 0,
            }
        )
    )


if __name__ == "__main__":
    main()
