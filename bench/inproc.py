"""In-process measurements through Django's WSGI handler (no sockets, far less noise).

Run by bench.main with one backend's environment:
``python -m bench.inproc --creds creds.json --out result.json [--profile DIR] [--big-creds big.json]``.

- per-request cost of each endpoint: the WSGI app called with a prepared environ, in
  short batches, endpoints interleaved round by round (alternating order); min and median
  of the batch means, and the median of the per-round ratios to the open endpoint's batch
  of the same round (the host's noise comes in bursts longer than a round, so pairing
  adjacent batches cancels most of it);
- on Redis, the platform's floor for any design that talks to Redis once per request: the
  open endpoint with one bare Redis round trip (PING) added, and the open endpoint right
  after a Redis message (the PING sent and its reply read outside the timing);
- the Tater endpoint on a cold cache (its principal forgotten before every request);
- queries per request (cold / warm), database writes over many warm requests, cache
  operations and Redis round trips per warm request;
- with ``--profile``: cProfile of the Tater and the open endpoint, a per-function diff,
  and micro-timings of the pieces of the key check;
- with ``--big-creds`` (flatness): the same cold/warm/audit-page requests on the small and
  on the big data set, interleaved (bench.router picks the database).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache, caches  # noqa: E402
from django.db import connections  # noqa: E402

from bench import router  # noqa: E402
from bench.wsgi import application  # noqa: E402

OPEN = "open"
TATER = "tater-validate"
TOKEN = "drf-token"
LIB = "api-key-lib"
ENDPOINTS = (OPEN, TATER, TOKEN, LIB)
RENDERED = TATER + " (answer rendered per request)"
COLD = TATER + " (cold cache)"
# The platform's floor on Redis (see RedisFloor): not endpoints, the open one plus a message.
FLOOR_RTT = "open + one bare Redis round trip (PING)"
FLOOR_AFTER = "open, right after a Redis message (untimed)"

BASE_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8765",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "REMOTE_PORT": "40000",
    "HTTP_HOST": "127.0.0.1:8765",
    "HTTP_USER_AGENT": "tater-bench",
    "HTTP_ACCEPT": "*/*",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


def endpoint_environs(creds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The request of each endpoint, exactly as wrk sends it (see bench.main.ENDPOINTS)."""
    return {
        OPEN: {**BASE_ENVIRON, "PATH_INFO": "/api/v1/health"},
        TATER: {**BASE_ENVIRON, "PATH_INFO": "/api/v1/auth/validate", "HTTP_X_API_KEY": creds["tater_key"]},
        TOKEN: {**BASE_ENVIRON, "PATH_INFO": "/api/bench/drf-token", "HTTP_AUTHORIZATION": f"Token {creds['drf_token']}"},
        LIB: {**BASE_ENVIRON, "PATH_INFO": "/api/bench/api-key-lib", "HTTP_AUTHORIZATION": f"Api-Key {creds['api_key_lib']}"},
    }


class Call:
    """One prepared request; calling it runs it through the whole WSGI stack."""

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ
        self.status = ""
        self.headers: list[tuple[str, str]] = []
        self.body = b""

    def _start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.status = status
        self.headers = headers
        return None

    def __call__(self) -> None:
        env = dict(self.environ)
        env["wsgi.input"] = io.BytesIO(b"")
        response = application(env, self._start_response)
        try:
            for _chunk in response:
                pass
        finally:
            response.close()  # request_finished: what a WSGI server does

    def checked(self) -> tuple[str, bytes, dict[str, str]]:
        env = dict(self.environ)
        env["wsgi.input"] = io.BytesIO(b"")
        response = application(env, self._start_response)
        body = b"".join(response)
        response.close()
        return self.status, body, dict(self.headers)


class PerRequestRendering:
    """The Tater call with validate's answer rendered on every request (as the open
    endpoint's is) instead of served from its per-principal rendering: the key check's
    own cost, nothing saved on rendering."""

    def __init__(self, call: Call) -> None:
        self.call = call

    def __call__(self) -> None:
        from apikeys.api import views

        views.RENDER_ONCE = False
        try:
            self.call()
        finally:
            views.RENDER_ONCE = True


class RedisFloor:
    """The open request plus one bare Redis round trip on a socket of its own: what one
    Redis message per request costs on this machine, whatever the design."""

    PING = b"*1\r\n$4\r\nPING\r\n"

    def __init__(self, call: Call, url: str) -> None:
        import socket
        from urllib.parse import urlparse

        parsed = urlparse(url)
        self.call = call
        self.sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def round_trip(self) -> None:
        self.sock.sendall(self.PING)
        if not self.sock.recv(64).startswith(b"+PONG"):
            raise SystemExit("bench: Redis did not answer PING")

    def __call__(self) -> None:
        self.round_trip()
        self.call()


def after_message_cost(floor: RedisFloor, n: int) -> float:
    """Mean seconds of the open request alone when a Redis PING was sent just before it
    (its reply read after): the request itself, slowed by what the message costs the
    process (on a VM: the exit that wakes Redis's CPU, and caches refilled afterwards)."""
    perf = time.perf_counter
    total = 0.0
    for _ in range(n):
        floor.sock.sendall(floor.PING)
        started = perf()
        floor.call()
        total += perf() - started
        floor.sock.recv(64)
    return total / n


def batch_cost(call: Callable[[], None], n: int) -> float:
    """Mean seconds per call over ``n`` calls."""
    perf = time.perf_counter
    started = perf()
    for _ in range(n):
        call()
    return (perf() - started) / n


def cold_cost(call: Callable[[], None], forget: Callable[[], None], n: int) -> float:
    """Mean seconds per call with the key's cache entry dropped before each (untimed)."""
    perf = time.perf_counter
    total = 0.0
    for _ in range(n):
        forget()
        started = perf()
        call()
        total += perf() - started
    return total / n


def summarize(samples: dict[str, list[float]], reference: str = OPEN) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ref = samples[reference]
    ref_min = min(ref)
    ref_median = statistics.median(ref)
    for name, values in samples.items():
        out[name] = {
            "min_us": round(min(values) * 1e6, 1),
            "median_us": round(statistics.median(values) * 1e6, 1),
            "ratio_min": round(min(values) / ref_min, 3),
            "ratio_median": round(statistics.median(values) / ref_median, 3),
            # Each round's batch over the open endpoint's batch of the same round.
            "ratio_paired": round(statistics.median(v / r for v, r in zip(values, ref, strict=True)), 3),
            "rounds": len(values),
        }
    return out


def forget_for(raw_key: str) -> Callable[[], None]:
    from apikeys import keygen
    from apikeys.principal import forget_digests

    digest = keygen.digest_of(raw_key)
    return lambda: forget_digests([digest])


# --- counters: queries, cache operations, Redis round trips ------------------------------
class Counters:
    def __init__(self) -> None:
        self.cache_ops: dict[str, int] = {}
        self.redis_round_trips = 0
        self._patch_cache()
        self._patch_redis()

    def _patch_cache(self) -> None:
        backend = type(caches["default"])
        counters = self.cache_ops
        for name in ("get", "set", "add", "delete", "get_many", "set_many", "delete_many", "incr", "decr", "touch", "has_key", "get_or_set"):
            original = getattr(backend, name, None)
            if original is None or getattr(original, "_bench_counted", False):
                continue

            def counted(self_: Any, *args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
                counters[_name] = counters.get(_name, 0) + 1
                return _original(self_, *args, **kwargs)

            counted._bench_counted = True  # type: ignore[attr-defined]
            setattr(backend, name, counted)

    def _patch_redis(self) -> None:
        try:
            from redis.connection import AbstractConnection
        except ImportError:
            return
        original = AbstractConnection.send_packed_command
        outer = self

        def counted(self_: Any, *args: Any, **kwargs: Any) -> Any:
            outer.redis_round_trips += 1
            return original(self_, *args, **kwargs)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]
        try:  # the rate limiter writes its script calls on its own connection
            from tater import ratelimit
        except ImportError:
            return
        original_sendall = getattr(ratelimit, "_sendall", None)
        if original_sendall is None:
            return

        def counted_sendall(conn: Any, packed: bytes) -> None:
            outer.redis_round_trips += 1
            original_sendall(conn, packed)

        ratelimit._sendall = counted_sendall

    def reset(self) -> None:
        self.cache_ops.clear()
        self.redis_round_trips = 0


class QueryLog:
    """Every SQL statement run on the default connection, across requests (Django's own
    query log is reset by request_started, so it cannot span a request)."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.sql.append(sql)
        return execute(sql, params, many, context)

    def count(self, fn: Callable[[], None]) -> list[str]:
        self.sql = []
        with connections["default"].execute_wrapper(self):
            fn()
        return self.sql


def _is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "REPLACE"))


def query_profile(call: Call, forget: Callable[[], None], counters: Counters, warm_n: int = 500) -> dict[str, Any]:
    log = QueryLog()
    forget()
    cold = log.count(call)
    call()  # settle anything a first request does
    warm1 = log.count(call)
    counters.reset()

    def many() -> None:
        for _ in range(warm_n):
            call()

    warm_many = log.count(many)
    return {
        "cold_queries": len(cold),
        "cold_sql": [q[:400] for q in cold],
        "warm_queries": len(warm1),
        "warm_queries_per_request": round(len(warm_many) / warm_n, 4),
        "writes_in_warm_requests": sum(1 for q in warm_many if _is_write(q)),
        "warm_requests_counted": warm_n,
        "cache_ops_per_warm_request": {k: round(v / warm_n, 3) for k, v in sorted(counters.cache_ops.items())},
        "redis_round_trips_per_warm_request": round(counters.redis_round_trips / warm_n, 3),
    }


# --- profile -------------------------------------------------------------------------------
def _profile(call: Call, n: int) -> pstats.Stats:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    return pstats.Stats(profiler)


def _fn_label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    for marker in ("site-packages/", "/work/main/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
    return f"{filename}:{line}({name})"


def profile_diff(calls: dict[str, Call], out_dir: str, n: int = 1500) -> dict[str, Any]:
    """Profile the Tater endpoint and the open one; report what the Tater request spends
    in functions the open request does not run (or runs less)."""
    stats = {}
    for name in (OPEN, TATER, OPEN, TATER):  # second pass is the one kept (warm code paths)
        stats[name] = _profile(calls[name], n)
    os.makedirs(out_dir, exist_ok=True)
    for name, st in stats.items():
        buf = io.StringIO()
        st.stream = buf  # type: ignore[attr-defined]
        st.sort_stats("tottime").print_stats(45)
        buf2 = io.StringIO()
        st.stream = buf2  # type: ignore[attr-defined]
        st.sort_stats("cumulative").print_stats(70)
        with open(os.path.join(out_dir, f"profile-{name}.txt"), "w") as fh:
            fh.write(buf.getvalue())
            fh.write("\n\n==== by cumulative time ====\n")
            fh.write(buf2.getvalue())
    a = stats[TATER].stats  # type: ignore[attr-defined]
    b = stats[OPEN].stats  # type: ignore[attr-defined]
    total_a = sum(v[2] for v in a.values()) / n
    total_b = sum(v[2] for v in b.values()) / n
    rows = []
    for key, (_cc, nc, tt, ct, _callers) in a.items():
        other = b.get(key)
        tt_b = other[2] if other else 0.0
        ct_b = other[3] if other else 0.0
        rows.append(
            {
                "function": _fn_label(key),
                "calls_per_req": round(nc / n, 2),
                "self_us_diff": round((tt - tt_b) / n * 1e6, 2),
                "cum_us_tater": round(ct / n * 1e6, 2),
                "cum_us_diff": round((ct - ct_b) / n * 1e6, 2),
            }
        )
    by_self = sorted(rows, key=lambda r: r["self_us_diff"], reverse=True)[:30]
    by_cum = sorted(rows, key=lambda r: r["cum_us_diff"], reverse=True)[:45]
    calls_a = sum(v[1] for v in a.values()) / n
    calls_b = sum(v[1] for v in b.values()) / n
    return {
        "requests_profiled": n,
        "python_calls_per_request": {TATER: round(calls_a, 1), OPEN: round(calls_b, 1)},
        "profiled_total_us_per_request": {TATER: round(total_a * 1e6, 1), OPEN: round(total_b * 1e6, 1)},
        "top_self_time_over_open": by_self,
        "top_cumulative_over_open": by_cum,
    }


def micro_timings(creds: dict[str, Any]) -> dict[str, float]:
    """Cost in µs of each piece of the key check, timed in isolation (min of 5 × 2,000)."""
    import pickle

    from django.test import RequestFactory
    from django.urls import resolve
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request

    from apikeys import keygen, usage
    from apikeys import principal as principal_mod
    from apikeys.authentication import ApiKeyAuthentication, _lazy_user, presented_key
    from tater.api import access as access_mod

    raw = creds["tater_key"]
    digest = keygen.digest_of(raw)
    p = principal_mod.principal_for_digest(digest)
    assert p is not None
    cache_key = principal_mod.CACHE_PREFIX + digest
    factory = RequestFactory()
    django_request = factory.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw)
    django_request.client_ip = "127.0.0.1"  # type: ignore[attr-defined]
    pickled = pickle.dumps(p, pickle.HIGHEST_PROTOCOL)
    validate_body = {
        "valid": True, "id": p.public_id, "type": p.type, "prefix": p.display_prefix, "name": p.name,
        "organization_id": p.org.public_id if p.org else None, "tenant_id": p.tenant_public_id,
        "binding": "organization", "scopes": list(p.scopes), "permissions": sorted(p.effective_scopes),
        "expires_at": None,
    }
    auth = ApiKeyAuthentication()
    renderer = JSONRenderer()

    def drf_request() -> Request:
        return Request(django_request)

    def query_params() -> Any:
        return Request(django_request).query_params

    def for_key() -> Any:
        return access_mod.for_key(Request(django_request), p, org_required=False, unbound_allowed=True)

    def authenticate() -> Any:
        return auth.authenticate(Request(django_request))

    pieces: dict[str, Callable[[], Any]] = {
        "presented_key": lambda: presented_key(Request(django_request)),
        "keygen.is_well_formed": lambda: keygen.is_well_formed(raw),
        "keygen.digest_of (sha256)": lambda: keygen.digest_of(raw),
        "cache.get(principal) [backend]": lambda: cache.get(cache_key),
        "pickle.loads(principal)": lambda: pickle.loads(pickled),  # noqa: S301 - our own bytes
        "principal_for_digest (warm)": lambda: principal_mod.principal_for_digest(digest),
        "ApiKeyAuthentication.verify": lambda: auth.verify(raw, "127.0.0.1"),
        "usage.touch": lambda: usage.touch(p, "127.0.0.1"),
        "_lazy_user (SimpleLazyObject)": lambda: _lazy_user(p.owner_pk),
        "principal.role_scopes": lambda: p.role_scopes,
        "principal.effective_scopes": lambda: p.effective_scopes,
        "DRF Request() alone": drf_request,
        "Request().query_params": query_params,
        "access.for_key (incl. Request())": for_key,
        "ApiKeyAuthentication.authenticate (incl. Request())": authenticate,
        "urls.resolve /api/v1/health": lambda: resolve("/api/v1/health"),
        "urls.resolve /api/v1/auth/validate": lambda: resolve("/api/v1/auth/validate"),
        "JSONRenderer validate body": lambda: renderer.render(validate_body),
        "JSONRenderer health body": lambda: renderer.render({"status": "ok"}),
    }
    pieces["caches['default'] lookup (asgiref Local)"] = lambda: caches["default"]
    pieces["dict get (process-local memo, for scale)"] = lambda: {digest: p}.get(digest)
    try:  # the rate limiter's pieces, when the tree has them
        from tater import ratelimit

        windows = ratelimit.windows_for(p.tenant_plan, p.rate_limit)
        pieces["ratelimit.windows_for"] = lambda: ratelimit.windows_for(p.tenant_plan, p.rate_limit)
        pieces["ratelimit.hit (incl. usage count)"] = lambda: ratelimit.hit(f"k{p.pk}", windows, usage_pk=p.pk)
        pieces["ratelimit.hit (limits only)"] = lambda: ratelimit.hit(f"k{p.pk}", windows)
        pieces["ratelimit.record_usage"] = lambda: ratelimit.record_usage(p.pk, requests=1, errors=0)
        pieces["cache.incr (one counter)"] = lambda: cache.incr("bench:counter")
        cache.set("bench:counter", 0, None)
        from django.http import HttpResponse

        def finish() -> Any:
            request = Request(django_request)
            request._tater_rate = ratelimit.hit(f"k{p.pk}", windows)  # type: ignore[attr-defined]
            request._auth = p  # type: ignore[attr-defined]
            ratelimit.finish(request, HttpResponse())

        pieces["ratelimit.hit + finish (incl. Request(), HttpResponse())"] = finish
    except ImportError:
        pass
    out: dict[str, float] = {}
    for name, fn in pieces.items():
        best = min(batch_cost(fn, 2000) for _ in range(5))
        out[name] = round(best * 1e6, 2)
    return out


# --- flatness ------------------------------------------------------------------------------
def audit_page_path() -> str | None:
    from django.urls import Resolver404, resolve

    from tater.urls import _api_not_found

    try:
        match = resolve("/api/v1/audit-log/")
    except Resolver404:
        return None
    return None if match.func is _api_not_found else "/api/v1/audit-log/"


def flatness(small: dict[str, Any], big: dict[str, Any], rounds: int, n: int) -> dict[str, Any]:
    """Cold key verification and the audit page on the small vs the big data set."""
    sets = {"small": ("default", small), "big": ("big", big)}
    calls: dict[str, dict[str, Call]] = {}
    forgets: dict[str, Callable[[], None]] = {}
    audit_path = audit_page_path()
    audit_status: dict[str, str] = {}
    for label, (alias, creds) in sets.items():
        envs = endpoint_environs(creds)
        calls[label] = {"cold": Call(envs[TATER]), "warm": Call(envs[TATER])}
        forgets[label] = forget_for(creds["tater_key"])
        if audit_path:
            calls[label]["audit"] = Call({**envs[TATER], "PATH_INFO": audit_path})
        router.use(alias)
        for kind, call in calls[label].items():
            status, body, _ = call.checked()
            if kind == "audit":
                audit_status[label] = status
            elif not status.startswith("200"):
                raise SystemExit(f"flatness: {label} {kind} answered {status}: {body[:300]!r}")
    samples: dict[str, list[float]] = {}
    for r in range(rounds):
        order = list(sets) if r % 2 == 0 else list(reversed(sets))
        for label in order:
            router.use(sets[label][0])
            c = calls[label]
            samples.setdefault(f"{label}/cold", []).append(cold_cost(c["cold"], forgets[label], n))
            samples.setdefault(f"{label}/warm", []).append(batch_cost(c["warm"], n))
            if "audit" in c and audit_status.get(label, "").startswith("200"):
                samples.setdefault(f"{label}/audit", []).append(batch_cost(c["audit"], max(10, n // 5)))
    router.use("default")
    result: dict[str, Any] = {
        "small": {"keys": small["extra_keys"] + 2, "audit_rows": small["audit_rows"]},
        "big": {"keys": big["extra_keys"] + 2, "audit_rows": big["audit_rows"]},
        "audit_endpoint": audit_path or "absent (GET /api/v1/audit-log/ not routed yet): skipped",
        "audit_status": audit_status,
    }
    for kind in ("cold", "warm", "audit"):
        if f"small/{kind}" in samples and f"big/{kind}" in samples:
            s, b = samples[f"small/{kind}"], samples[f"big/{kind}"]
            result[kind] = {
                "small_median_us": round(statistics.median(s) * 1e6, 1),
                "big_median_us": round(statistics.median(b) * 1e6, 1),
                "small_min_us": round(min(s) * 1e6, 1),
                "big_min_us": round(min(b) * 1e6, 1),
                "big_over_small_median": round(statistics.median(b) / statistics.median(s), 3),
                "big_over_small_min": round(min(b) / min(s), 3),
                # Each round's big batch over the small one of the same round (adjacent).
                "big_over_small_paired": round(statistics.median(y / x for x, y in zip(s, b, strict=True)), 3),
            }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creds", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rounds", type=int, default=120)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--profile", default="")
    parser.add_argument("--big-creds", default="")
    parser.add_argument("--flat-rounds", type=int, default=40)
    args = parser.parse_args()
    with open(args.creds) as fh:
        creds = json.load(fh)
    counters = Counters()
    calls = {name: Call(env) for name, env in endpoint_environs(creds).items()}
    result: dict[str, Any] = {"backend": {"database": connections["default"].vendor, "cache": type(caches["default"]).__name__}}

    # Each endpoint must answer 200, and the Tater one must show the limiter counting.
    checks = {}
    for name, call in calls.items():
        status, body, headers = call.checked()
        if not status.startswith("200"):
            raise SystemExit(f"{name} answered {status}: {body[:300]!r}")
        checks[name] = {"status": status, "bytes": len(body), "ratelimit": {k: v for k, v in headers.items() if k.lower().startswith("x-ratelimit")}}
    result["responses"] = checks

    forget = forget_for(creds["tater_key"])
    result["queries"] = query_profile(calls[TATER], forget, counters)

    for call in calls.values():  # warm every code path before timing
        batch_cost(call, 200)
    timed: dict[str, Callable[[], float]] = {name: (lambda c=call: batch_cost(c, args.batch)) for name, call in calls.items()}
    per_request = PerRequestRendering(calls[TATER])
    batch_cost(per_request, 200)
    timed[RENDERED] = lambda: batch_cost(per_request, args.batch)
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        floor = RedisFloor(calls[OPEN], redis_url)
        batch_cost(floor, 200)
        timed[FLOOR_RTT] = lambda: batch_cost(floor, args.batch)
        timed[FLOOR_AFTER] = lambda: after_message_cost(floor, args.batch)
    samples: dict[str, list[float]] = {name: [] for name in timed}
    samples[COLD] = []
    names = list(timed)
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else reversed(names):
            samples[name].append(timed[name]())
        samples[COLD].append(cold_cost(calls[TATER], forget, max(5, args.batch // 5)))
    result["wsgi"] = summarize(samples)

    if args.profile:
        result["profile"] = profile_diff(calls, args.profile)
        result["micro_us"] = micro_timings(creds)
    if args.big_creds:
        with open(args.big_creds) as fh:
            big = json.load(fh)
        result["flatness"] = flatness(creds, big, args.flat_rounds, 50)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
