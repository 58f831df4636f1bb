"""One step of the in-process ratio harness, in the process bench.ratio starts with one
mode's environment (DJANGO_SETTINGS_MODULE=bench.settings, DJANGO_DEBUG=0, the database
and cache of the mode). Public interfaces only: the WSGI application, called the way a
WSGI server calls it, and the app's service layer to create the data set.

    python -m bench.ratio_worker setup   --out creds.json --keys 12 [--pool N] [--filler N]
    python -m bench.ratio_worker verify  --creds creds.json
    python -m bench.ratio_worker measure --creds creds.json --runs 5 --requests 400 [--cold]

``setup``: migrate the fresh database; an owner, an enterprise-plan tenant, an organization
and ``--keys`` + ``--pool`` keys made through ``apikeys.services.apikey_create``
(``--filler``: that many more key rows bulk-inserted, for the flatness rows).
``verify``: validate every pool key once (this process is not the measuring one: on Redis
their principals are then in the shared cache, and the measuring process has never seen
them).
``measure``: warm up, then ``--runs`` runs of ``--requests`` requests alternating open,
validate, open, validate...; each request timed alone, its whole body read. Warm: the
``--keys`` keys in turn. ``--cold``: every validate request presents a pool key used
nowhere else in this process. ``--floor``: after each validate request, one request to the
floor view with a warm key (``bench.views.FloorView``: validate with a key check that
costs nothing), outside the ratio; its median ÷ the open median is the floor: what validate
would cost if the key check were free. ``--floor-rt``: likewise with one Redis ``PING``
waited for (``RoundTripFloorView``): a check that waits for its one round trip. Prints
one ``RATIOJSON {...}`` line.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402

OPEN_PATH = "/api/bench/open"
FLOOR_PATH = "/api/bench/floor"  # validate with a key check that costs nothing
ROUND_TRIP_FLOOR_PATH = "/api/bench/floor-rt"  # ... plus one Redis round trip (Redis modes)
VALIDATE_PATH = "/api/v1/auth/validate"
FLOOR_NAMES = {FLOOR_PATH: "floor", ROUND_TRIP_FLOOR_PATH: "floor_rt"}  # the result's field prefixes
HOST = "localhost"  # bench.ratio puts it in ALLOWED_HOSTS

BASE_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "QUERY_STRING": "",
    "SERVER_NAME": HOST,
    "SERVER_PORT": "443",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "40000",
    "HTTP_HOST": HOST,
    "HTTP_USER_AGENT": "tater-bench",
    "HTTP_ACCEPT": "*/*",
    # Served over TLS as in production (DEBUG off: plain http would be redirected).
    "wsgi.url_scheme": "https",
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


class Client:
    """The WSGI application called as a WSGI server calls it: a fresh environ per request,
    the response iterated to its end (rendering included) and closed."""

    def __init__(self) -> None:
        self.app = get_wsgi_application()
        self.status = ""

    def _start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status = status
        return None

    def environ(self, path: str, key: str | None) -> dict[str, Any]:
        env = {**BASE_ENVIRON, "PATH_INFO": path}
        if key is not None:
            env["HTTP_X_API_KEY"] = key
        return env

    def get(self, path: str, key: str | None = None) -> tuple[int, bytes, float]:
        """Status, body and seconds taken (the environ is built outside the timing)."""
        env = self.environ(path, key)
        env["wsgi.input"] = io.BytesIO(b"")
        perf = time.perf_counter
        started = perf()
        response = self.app(env, self._start_response)
        try:
            body = b"".join(response)
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()  # request_finished, as a WSGI server does
        took = perf() - started
        return int(self.status.split(" ", 1)[0]), body, took


# --- setup --------------------------------------------------------------------------------
def setup(keys: int, pool: int, filler: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from apikeys import services as key_services
    from orgs import services as org_services

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    owner = get_user_model().objects.create_user(email="bench-owner@example.com", password="bench-password-not-secret")
    tenant = org_services.tenant_create(name="Bench", owner=owner, plan="enterprise")
    org = org_services.org_create(tenant=tenant, name="Bench Org")

    def make(name: str) -> str:
        issued = key_services.apikey_create(creator=owner, tenant=tenant, organization=org, name=name, scopes=["*"])
        return issued.key

    t0 = time.perf_counter()
    warm = [make(f"bench-{i}") for i in range(keys)]
    cold = [make(f"bench-pool-{i}") for i in range(pool)]
    made = time.perf_counter() - t0
    filled = 0.0
    if filler:
        filled = _filler(tenant, org, owner, filler)
    return {
        "keys": warm,
        "pool": cold,
        "filler": filler,
        "seconds": {"migrate": round(migrated, 1), "keys": round(made, 1), "filler": round(filled, 1)},
    }


def _filler(tenant: Any, org: Any, owner: Any, n: int) -> float:
    """``n`` more active key rows of the same tenant, bulk-inserted (a million through the
    service layer would take hours); never presented, they only make the table big."""
    from django.db import connection
    from django.utils import timezone

    from apikeys.models import ApiKey
    from bench.seed import filler_keys

    took = filler_keys(ApiKey, n, tenant=tenant, org=org, owner=owner, now=timezone.now())
    if connection.vendor == "postgresql":  # fresh planner statistics, as autovacuum would soon have
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    return took


# --- verify (another process) ---------------------------------------------------------------
def verify(creds: dict[str, Any]) -> dict[str, Any]:
    client = Client()
    bad: dict[int, int] = {}
    for key in creds["pool"]:
        status, _body, _ = client.get(VALIDATE_PATH, key)
        if status != 200:
            bad[status] = bad.get(status, 0) + 1
    if bad:
        raise SystemExit(f"verify: pool keys answered {bad}")
    return {"verified": len(creds["pool"])}


# --- measure --------------------------------------------------------------------------------
def measure(
    creds: dict[str, Any], runs: int, requests: int, cold: bool, warmup: int, floors: tuple[str, ...] = ()
) -> dict[str, Any]:
    client = Client()
    keys: list[str] = creds["keys"]
    pool: list[str] = creds["pool"]
    per_run_validates = requests // 2
    if cold and len(pool) < runs * per_run_validates:
        raise SystemExit(
            f"measure --cold: {runs} runs × {per_run_validates} validates need that many pool keys, have {len(pool)}"
        )

    # Sanity: the answers, once (and the first request's lazy start-up, untimed).
    status, body, _ = client.get(OPEN_PATH)
    if status != 200:
        raise SystemExit(f"open view answered {status}: {body[:300]!r}")
    open_bytes = len(body)
    status, body, _ = client.get(VALIDATE_PATH, keys[0])
    if status != 200 or not json.loads(body).get("valid"):
        raise SystemExit(f"validate answered {status}: {body[:300]!r}")
    validate_bytes = len(body)
    for floor in floors:
        status, body, _ = client.get(floor, keys[0])
        if status != 200:
            raise SystemExit(f"floor view answered {status}: {body[:300]!r}")

    # Warm-up: every code path of both requests, with the warm keys (never the pool's).
    for i in range(warmup):
        client.get(OPEN_PATH)
        client.get(VALIDATE_PATH, keys[i % len(keys)])
        for floor in floors:
            client.get(floor, keys[i % len(keys)])

    statuses: dict[str, dict[str, int]] = {"open": {}, "validate": {}}
    run_rows: list[dict[str, Any]] = []
    all_open: list[float] = []
    all_validate: list[float] = []
    floor_times: dict[str, list[float]] = {floor: [] for floor in floors}
    floor_ratios: dict[str, list[float]] = {floor: [] for floor in floors}
    k = 0
    c = 0
    for _run in range(runs):
        opens: list[float] = []
        validates: list[float] = []
        run_floors: dict[str, list[float]] = {floor: [] for floor in floors}
        for i in range(requests):
            if i % 2 == 0:
                status, _, took = client.get(OPEN_PATH)
                opens.append(took)
                kind = "open"
            else:
                if cold:
                    key = pool[c]
                    c += 1
                else:
                    key = keys[k % len(keys)]
                    k += 1
                status, _, took = client.get(VALIDATE_PATH, key)
                validates.append(took)
                kind = "validate"
                for floor in floors:
                    # A warm key even in the cold mode: the floor's one lookup is free.
                    floor_status, _, floor_took = client.get(floor, keys[(k + c) % len(keys)])
                    if floor_status == 200:
                        run_floors[floor].append(floor_took)
            statuses[kind][str(status)] = statuses[kind].get(str(status), 0) + 1
        o, v = statistics.median(opens), statistics.median(validates)
        run_rows.append({"open_us": round(o * 1e6, 1), "validate_us": round(v * 1e6, 1), "ratio": round(v / o, 3)})
        all_open += opens
        all_validate += validates
        for floor, took in run_floors.items():
            if took:
                floor_times[floor] += took
                floor_ratios[floor].append(round(statistics.median(took) / o, 3))
    ratios = [r["ratio"] for r in run_rows]
    return {
        "runs": runs,
        "requests_per_run": requests,
        "keys_in_turn": 0 if cold else len(keys),
        "cold_pool_keys_used": c,
        "open_us_median": round(statistics.median(all_open) * 1e6, 1),
        "validate_us_median": round(statistics.median(all_validate) * 1e6, 1),
        "ratio_median_of_runs": round(statistics.median(ratios), 3),
        "ratio_of_medians": round(statistics.median(all_validate) / statistics.median(all_open), 3),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "per_run": run_rows,
        **{
            f"{FLOOR_NAMES[floor]}_{field}": value
            for floor, took in floor_times.items()
            if took
            for field, value in (
                ("us_median", round(statistics.median(took) * 1e6, 1)),
                ("ratio_median_of_runs", round(statistics.median(floor_ratios[floor]), 3)),
            )
        },
        "statuses": statuses,
        "all_200": statuses["open"] == {"200": runs * (requests - requests // 2)}
        and statuses["validate"] == {"200": runs * per_run_validates},
        "response_bytes": {"open": open_bytes, "validate": validate_bytes},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["setup", "verify", "measure"])
    parser.add_argument("--out", default="")
    parser.add_argument("--creds", default="")
    parser.add_argument("--keys", type=int, default=12)
    parser.add_argument("--pool", type=int, default=0)
    parser.add_argument("--filler", type=int, default=0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--floor-rt", action="store_true")
    args = parser.parse_args()
    if args.step == "setup":
        creds = setup(args.keys, args.pool, args.filler)
        with open(args.out, "w") as fh:
            json.dump(creds, fh)
        print("RATIOJSON " + json.dumps({"seconds": creds["seconds"]}), flush=True)
        return
    with open(args.creds) as fh:
        creds = json.load(fh)
    if args.step == "verify":
        result = verify(creds)
    else:
        floors = (FLOOR_PATH,) * args.floor + (ROUND_TRIP_FLOOR_PATH,) * args.floor_rt
        result = measure(creds, args.runs, args.requests, args.cold, args.warmup, floors)
    print("RATIOJSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
