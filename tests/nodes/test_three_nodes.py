"""Three app nodes over one PostgreSQL database and one Redis (SPEC §12: "every guarantee
above (exact limits, immediate revocation, lockout, audit chain) holds across nodes").

Black box: each node is a gunicorn master (``tater.operations.gunicorn_conf``, 2 workers x 4
threads, production settings) on its own loopback port; the tests talk to them over HTTP only
and use ``manage.py`` for what an operator does (migrate, seed with the operator commands,
``verify_audit``). Nothing of the app's hot path is imported here: every expectation comes
from the SPEC (§2 lifecycle, §3 error catalog, §6 rate limits, §7/§12 audit chain) and the
Redis-outage issue (revocation, deactivation must commit whatever Redis does, and every node
must refuse the key on its next request; rate limits may fail open by setting).

The database is a fresh ``tater_nodes_<random>`` of our own (migrated, dropped at the end);
tests 2-4 share one 3-node cluster on the shared Redis (db 11, a unique key prefix); the
outage test starts its own redis-server and a second 3-node cluster pointed at it.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
GUNICORN = [str(VENV_BIN / "gunicorn")] if (VENV_BIN / "gunicorn").exists() else [PYTHON, "-m", "gunicorn"]
REDIS_SERVER = shutil.which("redis-server")

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
SHARED_REDIS_URL = "redis://127.0.0.1:6379/11"
VALIDATE = "/api/v1/auth/validate"
LIMIT = 20  # the per-key override of the rate-limit test: 20 per minute
NODES = 3
WORKERS = 2
THREADS = 4

pytestmark = [pytest.mark.realservices, pytest.mark.slow]

# Variables of the test process that must not leak into the nodes' environment.
_NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX", "TATER_TESTING", "TATER_LOG_FORMAT",
    "PROMETHEUS_MULTIPROC_DIR", "DJANGO_SETTINGS_MODULE", "TATER_RATELIMIT_FAIL_OPEN", "CACHE_FAIL_SOFT",
    "REDIS_CLUSTER", "TATER_LOCKOUT_CLIENT_FAILURES", "WEB_CONCURRENCY",
}  # fmt: skip


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    port: int

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def error(self) -> str | None:
        data = self.json
        return data.get("error") if isinstance(data, dict) else None

    def brief(self) -> str:
        return f"{self.status} on :{self.port} {self.body[:300].decode(errors='replace')}"


def call(port: int, method: str, path: str, *, key: str | None = None, body: Any = None, timeout: float = 30) -> Reply:
    headers: dict[str, str] = {}
    if key is not None:
        headers["X-API-Key"] = key
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(), port)
    finally:
        conn.close()


def parallel(calls: list[Callable[[], Reply]], *, width: int = 24) -> list[Reply]:
    """Run the calls concurrently (all released together), results in the calls' order."""
    barrier = threading.Barrier(min(width, len(calls)))

    def run(index: int) -> Reply:
        if index < barrier.parties:
            barrier.wait(timeout=30)
        return calls[index]()

    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(run, range(len(calls))))


# --- Services and processes ----------------------------------------------------------------


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes], first: int | None = signal.SIGTERM, grace: float = 10) -> None:
    """Stop a process started with ``start_new_session=True``: ``first`` to the leader only
    (gunicorn's master then stops its workers, gracefully for SIGTERM; None: already sent),
    then SIGKILL to whatever is left of its process group."""
    if proc.poll() is None:
        if first is not None:
            try:
                os.kill(proc.pid, first)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stray workers, or a master that did not stop
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def node_env(*, database_url: str, redis_url: str, prefix: str, secret_key: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(
        DJANGO_DEBUG="0",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CACHE_KEY_PREFIX=prefix,
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1",
        TATER_LOCAL_HTTP="1",
        # All test traffic comes from 127.0.0.1: the refused (revoked, deactivated) keys these
        # tests present on purpose must not lock the address out (SPEC §6: settable).
        TATER_LOCKOUT_CLIENT_FAILURES="100000",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def last_json(text: str) -> Any:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return json.loads(lines[-1])


@dataclass
class Node:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""


@dataclass
class Cluster:
    nodes: list[Node] = field(default_factory=list)

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    def stop(self) -> None:
        # One SIGTERM to each master (a graceful stop, bounded by --graceful-timeout), all at
        # once; never a second signal that would cut short a worker's exit handlers.
        for node in self.nodes:
            if node.proc.poll() is None:
                try:
                    os.kill(node.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for node in self.nodes:
            stop_group(node.proc, first=None)


def start_cluster(tmp: Path, env: dict[str, str], label: str) -> Cluster:
    cluster = Cluster()
    try:
        for i in range(NODES):
            port = free_port()
            log = tmp / f"{label}-node{i + 1}.log"
            with log.open("ab") as out:
                proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                    [*GUNICORN, "-c", "python:tater.operations.gunicorn_conf", "tater.wsgi",
                     "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS), "--threads", str(THREADS),
                     "--graceful-timeout", "2"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            cluster.nodes.append(Node(f"{label}-{i + 1}", port, proc, log))
        deadline = time.monotonic() + 60
        for node in cluster.nodes:
            while True:
                if node.proc.poll() is not None:
                    raise RuntimeError(f"gunicorn {node.name} exited: {node.tail()}")
                try:
                    if call(node.port, "GET", "/healthz", timeout=5).status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn {node.name} did not come up: {node.tail()}")
                time.sleep(0.1)
        # Let every worker of every node finish booting (Django is loaded lazily per worker).
        parallel([lambda p=p: call(p, "GET", "/healthz") for p in cluster.ports for _ in range(WORKERS * THREADS)])
        return cluster
    except BaseException:
        cluster.stop()
        raise


# --- Fixtures --------------------------------------------------------------------------------


@dataclass
class World:
    database_url: str
    secret_key: str
    tenant_id: str
    org_id: str
    admin_key: str  # the tenant owner's org-bound key, full access ("*")
    admin_key_id: str
    tmp: Path

    def env(self, redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
        return node_env(
            database_url=self.database_url, redis_url=redis_url, prefix=prefix, secret_key=self.secret_key, **extra
        )


# One Django start-up for both (each costs seconds on a busy machine): migrate, then seed with
# the operator commands (SPEC §10).
SEED = """
import io, json
from django.core.management import call_command

call_command("migrate", "--noinput", verbosity=0)

def run(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])

tenant = run("create_tenant", "--name", "Nodes", "--owner-email", "owner@nodes.test", "--plan", "enterprise")
org = run("create_org", "--tenant", tenant["tenant_id"], "--name", "Nodes HQ")
key = run("create_api_key", "--user", "owner@nodes.test", "--tenant", tenant["tenant_id"],
          "--org", org["organization_id"], "--name", "node admin", "--scopes", "*")
print(json.dumps({"tenant_id": tenant["tenant_id"], "org_id": org["organization_id"],
                  "admin_key": key["key"], "admin_key_id": key["id"]}))
"""


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres", autocommit=True, connect_timeout=5)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if not reachable(PG_HOST, PG_PORT):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    if not reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    name = f"tater_nodes_{secrets.token_hex(4)}"
    database_url = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        tmp = tmp_path_factory.mktemp("nodes")
        secret_key = secrets.token_urlsafe(50)
        env = node_env(database_url=database_url, redis_url=SHARED_REDIS_URL, prefix=f"tater-nodes-seed-{name}",
                       secret_key=secret_key)  # fmt: skip
        done = manage(env, "shell", "-c", SEED)
        assert done.returncode == 0, done.stderr[-3000:]
        seed = last_json(done.stdout)
        yield World(database_url, secret_key, seed["tenant_id"], seed["org_id"], seed["admin_key"],
                    seed["admin_key_id"], tmp)  # fmt: skip
    finally:
        with _pg_admin() as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@dataclass
class SharedCluster:
    """The three nodes on the shared Redis (db 11, a key prefix of their own), started on
    first use and stopped when the module ends, or earlier by the outage test (whose own
    cluster would otherwise double the database connections); started again if needed."""

    world: World
    prefix: str
    current: Cluster | None = None

    def up(self) -> Cluster:
        if self.current is None:
            self.current = start_cluster(self.world.tmp, self.world.env(SHARED_REDIS_URL, self.prefix), "shared")
        return self.current

    def down(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None


@pytest.fixture(scope="module")
def shared(world: World) -> Iterator[SharedCluster]:
    holder = SharedCluster(world, f"tater-nodes-{secrets.token_hex(4)}")
    try:
        yield holder
    finally:
        holder.down()


@pytest.fixture
def cluster(shared: SharedCluster) -> Cluster:
    return shared.up()


def create_key(port: int, world: World, name: str, **fields: Any) -> tuple[str, str]:
    """A new key of the tenant owner through the API: (id, secret)."""
    reply = call(port, "POST", "/api/v1/keys/", key=world.admin_key, body={"name": name, **fields})
    assert reply.status == 201, reply.brief()
    return reply.json["id"], reply.json["key"]


def warm(cluster: Cluster, raw: str, per_node: int = 16) -> None:
    """Several concurrent requests per node, so every worker (and thread) has used the key."""
    replies = parallel([lambda p=p: call(p, "GET", VALIDATE, key=raw) for p in cluster.ports for _ in range(per_node)])
    assert [r.status for r in replies] == [200] * len(replies), [r.brief() for r in replies if r.status != 200][:3]


def refusals(cluster: Cluster, raw: str, per_node: int = 10) -> list[Reply]:
    """The very next request to each node (one each, in turn), then a concurrent burst per node."""
    first = [call(p, "GET", VALIDATE, key=raw) for p in cluster.ports]
    burst = parallel([lambda p=p: call(p, "GET", VALIDATE, key=raw) for p in cluster.ports for _ in range(per_node)])
    return first + burst


def unexpected(replies: list[Reply], status: int, error: str | None = None, message: str | None = None) -> list[str]:
    wrong = []
    for r in replies:
        data = r.json if isinstance(r.json, dict) else {}
        if r.status != status or (error and data.get("error") != error) or (message and data.get("message") != message):
            wrong.append(r.brief())
    return wrong


# --- 2. Rate limits are exact across nodes -----------------------------------------------------


def test_rate_limit_is_exact_across_three_nodes(cluster: Cluster, world: World) -> None:
    """SPEC §6: never more admitted than the limit across processes; 429 RATE_LIMITED with
    Retry-After; X-RateLimit-* headers on every API response."""
    _, raw = create_key(cluster.ports[0], world, "burst", rate_limit=f"{LIMIT}/min")
    started = time.monotonic()
    total = 90  # 30 per node, from 30 concurrent clients spread round-robin over the nodes
    replies = parallel(
        [lambda i=i: call(cluster.ports[i % NODES], "GET", VALIDATE, key=raw) for i in range(total)], width=30
    )
    admitted = [r for r in replies if r.status == 200]
    refused = [r for r in replies if r.status != 200]
    assert len(admitted) == LIMIT, (
        f"{len(admitted)} of {total} admitted with a limit of {LIMIT}/min; admitted per node: "
        f"{ {p: sum(r.port == p for r in admitted) for p in cluster.ports} }"
    )
    assert not unexpected(refused, 429, "RATE_LIMITED"), unexpected(refused, 429, "RATE_LIMITED")[:3]
    for r in refused:
        assert 1 <= int(r.headers["retry-after"]) <= 60, r.headers
        assert r.headers.get("x-ratelimit-remaining") == "0", r.headers
    for r in replies:
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(r.headers), r.headers
    # Nothing more in the same rolling minute, whichever node is asked.
    again = parallel([lambda i=i: call(cluster.ports[i % NODES], "GET", VALIDATE, key=raw) for i in range(15)])
    assert not unexpected(again, 429, "RATE_LIMITED"), unexpected(again, 429, "RATE_LIMITED")[:3]
    assert time.monotonic() - started < 50  # all of it inside one minute


# --- 3. Revocation and deactivation are seen by every node at once -------------------------------


def test_revocation_is_refused_by_every_node_and_worker(cluster: Cluster, world: World) -> None:
    """SPEC §3/§12: a revoked key is 401 KEY_REVOKED on the very next request, on every node."""
    key_id, raw = create_key(cluster.ports[0], world, "to revoke")
    warm(cluster, raw)
    reply = call(cluster.ports[0], "POST", f"/api/v1/keys/{key_id}/revoke/", key=world.admin_key)
    assert reply.status == 200 and reply.json["status"] == "revoked", reply.brief()
    replies = refusals(cluster, raw)
    wrong = unexpected(replies, 401, "KEY_REVOKED", "API key has been revoked")
    assert not wrong, f"{len(wrong)} of {len(replies)} not refused as revoked: {wrong[:4]}"


def test_deactivation_is_refused_by_every_node_and_worker(cluster: Cluster, world: World) -> None:
    """SPEC §2/§3: a deactivated key is 401 KEY_INACTIVE on the very next request, on every node."""
    key_id, raw = create_key(cluster.ports[1], world, "to deactivate")
    warm(cluster, raw)
    reply = call(cluster.ports[1], "POST", f"/api/v1/keys/{key_id}/deactivate/", key=world.admin_key)
    assert reply.status == 200 and reply.json["is_active"] is False, reply.brief()
    replies = refusals(cluster, raw)
    wrong = unexpected(replies, 401, "KEY_INACTIVE", "API key is deactivated")
    assert not wrong, f"{len(wrong)} of {len(replies)} not refused as deactivated: {wrong[:4]}"


# --- 4. The audit chain survives concurrent writes on several nodes -------------------------------


def test_audit_chain_is_intact_after_concurrent_writes_on_three_nodes(cluster: Cluster, world: World) -> None:
    """SPEC §7/§12: every write is audited in its transaction; the per-tenant hash chain holds
    across nodes (``manage.py verify_audit`` exits 0)."""
    count = 24
    created = parallel(
        [lambda i=i: call(cluster.ports[i % NODES], "POST", "/api/v1/keys/", key=world.admin_key,
                          body={"name": f"chain {i}"}) for i in range(count)]
    )  # fmt: skip
    assert [r.status for r in created] == [201] * count, [r.brief() for r in created if r.status != 201][:3]
    ids = [r.json["id"] for r in created]
    # Two renames of every key, each through another node, all at once; then revoke a third of them.
    renames = parallel(
        [lambda i=i, k=k, n=n: call(cluster.ports[(i + n) % NODES], "PATCH", f"/api/v1/keys/{k}/",
                                    key=world.admin_key, body={"name": f"chain {i} renamed {n}"})
         for i, k in enumerate(ids) for n in (1, 2)]
    )  # fmt: skip
    assert [r.status for r in renames] == [200] * len(renames), [r.brief() for r in renames if r.status != 200][:3]
    revokes = parallel(
        [lambda i=i, k=k: call(cluster.ports[i % NODES], "POST", f"/api/v1/keys/{k}/revoke/", key=world.admin_key)
         for i, k in enumerate(ids[::3])]
    )  # fmt: skip
    assert [r.status for r in revokes] == [200] * len(revokes), [r.brief() for r in revokes if r.status != 200][:3]

    env = world.env(SHARED_REDIS_URL, f"tater-nodes-verify-{secrets.token_hex(4)}")
    done = manage(env, "verify_audit", "--skip-checks", "--tenant", world.tenant_id, "--json")
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    report = last_json(done.stdout)
    assert report["intact"] is True, report
    (tenant_chain,) = report["chains"]
    assert tenant_chain["tenant_id"] == world.tenant_id and tenant_chain["intact"] is True, tenant_chain
    assert tenant_chain["entries"] >= count + len(renames) + len(revokes), tenant_chain

    # Every one of those writes is in the log (read back through the API, cursor paging).
    seen: dict[str, int] = {}
    cursor = ""
    for _ in range(50):
        path = f"/api/v1/audit-log/?key={world.admin_key_id}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = call(cluster.ports[2], "GET", path, key=world.admin_key)
        assert page.status == 200, page.brief()
        for entry in page.json["entries"]:
            target = (entry.get("target") or {}).get("id")
            if target in ids:
                seen[entry["action"]] = seen.get(entry["action"], 0) + 1
        cursor = page.json["next_cursor"]
        if not cursor:
            break
    assert seen.get("api_key.created") == count, seen
    assert seen.get("api_key.revoked") == len(revokes), seen
    assert sum(v for k, v in seen.items() if k not in ("api_key.created", "api_key.revoked")) >= len(renames), seen


# --- 5. A Redis outage never blocks revocation ---------------------------------------------------


@dataclass
class PrivateRedis:
    port: int
    directory: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.directory / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - the system's redis-server, our arguments
            [str(REDIS_SERVER), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.directory)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 15
        while not self._pong():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on {self.port} did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, first=signal.SIGKILL, grace=5)
            self.proc = None
        deadline = time.monotonic() + 5
        while reachable("127.0.0.1", self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def private_redis(world: World) -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        pytest.skip("the redis-server binary is not installed")
    server = PrivateRedis(free_port(), world.tmp)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def outage_cluster(world: World, private_redis: PrivateRedis, shared: SharedCluster) -> Iterator[Cluster]:
    shared.down()  # fewer database connections open at once
    prefix = f"tater-nodes-outage-{secrets.token_hex(4)}"
    nodes = start_cluster(world.tmp, world.env(private_redis.url, prefix), "outage")
    try:
        yield nodes
    finally:
        nodes.stop()


def test_redis_outage_never_blocks_revocation_or_deactivation(
    outage_cluster: Cluster, private_redis: PrivateRedis, world: World
) -> None:
    """With Redis down, revoke/deactivate commit (2xx) and every node refuses the key on its
    next request (database fallback); a valid key keeps working (TATER_RATELIMIT_FAIL_OPEN
    defaults to true); once Redis is back (empty), the refused keys stay refused."""
    nodes = outage_cluster
    one, two, three = nodes.ports
    revoked_id, revoked_raw = create_key(one, world, "leaked")
    inactive_id, inactive_raw = create_key(two, world, "paused")
    _, good_raw = create_key(three, world, "still good")
    for raw in (revoked_raw, inactive_raw, good_raw):
        warm(nodes, raw, per_node=WORKERS * THREADS)

    private_redis.kill()
    problems: list[str] = []

    def check(label: str, replies: list[Reply], status: int, error: str | None = None) -> None:
        wrong = unexpected(replies, status, error)
        if wrong:
            problems.append(f"{label}: {len(wrong)} of {len(replies)} were not {status} {error or ''}: {wrong[:3]}")

    # Revocation through node 1 while Redis is down: committed, and refused everywhere.
    reply = call(one, "POST", f"/api/v1/keys/{revoked_id}/revoke/", key=world.admin_key)
    if not (200 <= reply.status < 300 and (reply.json or {}).get("status") == "revoked"):
        problems.append(f"revoke during the outage: {reply.brief()}")
    shown = call(two, "GET", f"/api/v1/keys/{revoked_id}/", key=world.admin_key)
    if shown.status != 200 or (shown.json or {}).get("status") != "revoked" or not (shown.json or {}).get("revoked_at"):
        problems.append(f"the key read back during the outage: {shown.brief()}")
    check("revoked key during the outage", refusals(nodes, revoked_raw, per_node=8), 401, "KEY_REVOKED")
    # A valid key keeps working (rate limits fail open by default).
    check("valid key during the outage", refusals(nodes, good_raw, per_node=4), 200)

    # Deactivation through node 2 while Redis is down.
    reply = call(two, "POST", f"/api/v1/keys/{inactive_id}/deactivate/", key=world.admin_key)
    if not (200 <= reply.status < 300 and (reply.json or {}).get("is_active") is False):
        problems.append(f"deactivate during the outage: {reply.brief()}")
    shown = call(three, "GET", f"/api/v1/keys/{inactive_id}/", key=world.admin_key)
    if shown.status != 200 or (shown.json or {}).get("is_active") is not False:
        problems.append(f"the deactivated key read back during the outage: {shown.brief()}")
    check("deactivated key during the outage", refusals(nodes, inactive_raw, per_node=8), 401, "KEY_INACTIVE")

    # Redis comes back on the same port, empty (no persistence): nothing is resurrected.
    private_redis.start()
    check("revoked key after Redis is back", refusals(nodes, revoked_raw, per_node=8), 401, "KEY_REVOKED")
    check("deactivated key after Redis is back", refusals(nodes, inactive_raw, per_node=8), 401, "KEY_INACTIVE")
    check("valid key after Redis is back", refusals(nodes, good_raw, per_node=4), 200)

    assert not problems, "\n".join(problems)
