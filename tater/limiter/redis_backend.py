"""Redis backend: exact across every process and node that shares the Redis.

Each call is one ``EVALSHA`` of ``limiter.lua`` (redis-py's ``register_script``: it loads
the script on a ``NOSCRIPT`` reply, e.g. after a failover or on a new cluster node). Redis
runs a script atomically, so however many workers race, never more than a rule's limit is
admitted; a refused request writes nothing. The script reads the server's clock (``TIME``),
so all app nodes count on one clock even when theirs drift.

Keys per entity (one cluster hash slot, see :mod:`tater.limiter.keys`):

- ``rl:{<key>}:_log``: a sorted set of admission times shared by all rolling rules, trimmed
  to the longest rolling window and expiring with it. Memory: at most the limit of the
  longest rolling rule entries (about 60 bytes each), e.g. 1,000 × 60 B for 1,000/min.
- ``rl:{<key>}:_win``: a small hash holding, per fixed rule length, the current window's
  index and count; it expires a second after its longest window ends.

A check with rules remembers them beside the counts (``_win`` field ``_rules``); a check
without rules uses the remembered ones (``Decision.known`` is False when there are none).

``send`` writes a check's ``EVALSHA`` on a pooled connection and leaves the reply to be read
later (``Limiter.send_ahead``: the round trip runs while the caller works).

Works unchanged with ``redis.Redis`` (``redis://``, ``rediss://``) and
``redis.cluster.RedisCluster``. ``reads`` are GETs inside the same script: values are raw
bytes (``None`` when missing); write them with the same client (:func:`tater.redis_client.get_client`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from django.conf import settings
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.connection import ConnectionPool
from redis.exceptions import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    ClusterError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tater.limiter import keys
from tater.limiter.base import DEFAULT_ROLLING_MAX_SECONDS, RateLimiterBackend, Sent
from tater.limiter.core import Decision, LimiterUnavailable, Receipt, Rule, RuleState
from tater.redis_client import RedisClient, get_client

LUA = resources.files("tater.limiter").joinpath("limiter.lua").read_text(encoding="utf-8")

# Errors that mean "the store cannot answer now" (the outage policy applies). Any other
# error (a wrong-type key, a script bug) is a bug and propagates.
UNAVAILABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,  # includes BusyLoadingError (a restarting server)
    RedisTimeoutError,
    BusyLoadingError,
    ClusterError,  # includes ClusterDownError, MasterDownError
    RedisClusterException,  # e.g. no startup node reachable
    ReadOnlyError,  # a failover in progress: the connection still points at the old master
    OutOfMemoryError,
    TryAgainError,
)

# Errors in a script call's reply that mean it did not run (see _SentScript).
DID_NOT_RUN: tuple[type[Exception], ...] = (NoScriptError, AskError, TryAgainError, ClusterDownError)

MICRO = 1_000_000
_calls = itertools.count()
_token_prefix = [os.urandom(4).hex()]  # per process: pids are reused


def _new_token_prefix() -> None:
    # A worker forked from a preloaded master must not share the master's prefix: a worker
    # that replaces a dead one under the same pid would repeat its tokens in the log.
    _token_prefix[0] = os.urandom(4).hex()


os.register_at_fork(after_in_child=_new_token_prefix)


class RedisBackend(RateLimiterBackend):
    sends_ahead = True

    def __init__(
        self, client: RedisClient | None = None, *, rolling_max_seconds: int = DEFAULT_ROLLING_MAX_SECONDS
    ) -> None:
        """``client``: a redis-py client; ``None`` uses :func:`tater.redis_client.get_client`."""
        super().__init__(rolling_max_seconds=rolling_max_seconds)
        self._client = client
        self._script: tuple[RedisClient, Script] | None = None
        self._rule_args_cache: dict[object, tuple[Any, ...]] = {}  # keyed by the rule tuple

    @property
    def fails_as_one(self) -> bool:
        """A cluster's shards fail alone: one hung shard must not shut out the healthy ones."""
        if self._client is not None:
            return not isinstance(self._client, RedisCluster)
        return not getattr(settings, "REDIS_CLUSTER", False)

    def check(self, key: str, rules: Sequence[Rule], *, cost: int, now: float | None, reads: Sequence[str]) -> Decision:
        token = _new_token()
        reply = self._run("check", key, rules, cost, _clock(now), reads, token)
        return self._decision(rules, reply, reads, token, cost)

    def send(self, key: str, rules: Sequence[Rule], *, cost: int, reads: Sequence[str]) -> Sent:
        """The ``EVALSHA`` written now on a connection of the pool that serves the entity's
        slot (redis-py's public ``send_command``); :class:`_SentScript` reads the reply."""
        token = _new_token()
        names, args = self._call("check", key, rules, cost, "", reads, token)
        try:
            client = self._client_or_default()  # a cluster client connects when built
            script = self._registered(client)
            pool = _pool_for(client, names[0])
            connection = pool.get_connection()
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        try:
            connection.send_command("EVALSHA", script.sha, len(names), *names, *args)
        except UNAVAILABLE as exc:
            connection.disconnect()
            pool.release(connection)
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return _SentScript(self, pool, connection, (key, tuple(rules), cost, tuple(reads), token))

    def peek(self, key: str, rules: Sequence[Rule], *, now: float | None, reads: Sequence[str] = ()) -> Decision:
        return self._decision(rules, self._run("peek", key, rules, 1, _clock(now), reads, ""), reads)

    def refund(self, key: str, receipt: Any, *, cost: int) -> None:
        # Its own log members; at its time, under its rules: its fixed windows, while current.
        token, admitted_us, rules = receipt
        self._run("refund", key, rules, cost, str(admitted_us), (), token)

    def reset(self, key: str, rules: Sequence[Rule]) -> None:
        try:
            # One DEL of two keys of one slot: valid on a cluster too.
            self._client_or_default().delete(keys.internal(key, "log"), keys.internal(key, "win"))
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def write(self, values: Mapping[str, str], *, ttl: int, only_if_absent: bool = False) -> dict[str, bool]:
        try:
            # Not a transaction: on a cluster the keys may live in different slots.
            pipe = self._client_or_default().pipeline(transaction=False)
            for name, value in values.items():
                pipe.set(name, value, ex=ttl, nx=only_if_absent)
            return {name: bool(done) for name, done in zip(values, pipe.execute(), strict=True)}
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def read(self, names: Sequence[str]) -> dict[str, Any]:
        try:
            client = self._client_or_default()
            # One MGET; on a cluster one per slot (a sweep reads many entities' keys).
            mget = client.mget_nonatomic if isinstance(client, RedisCluster) else client.mget
            return dict(zip(names, mget(list(names)), strict=True))
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def delete(self, names: Sequence[str]) -> None:
        try:
            pipe = self._client_or_default().pipeline(transaction=False)
            for name in names:
                pipe.delete(name)
            pipe.execute()
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def clear(self) -> None:
        try:
            client = self._client_or_default()
            names = list(client.scan_iter(match=f"{keys.prefix()}:*", count=1000))
            pipe = client.pipeline(transaction=False)
            for name in names:
                pipe.delete(name)  # one key per command: valid across cluster slots
            pipe.execute()
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _client_or_default(self) -> RedisClient:
        return self._client if self._client is not None else get_client()

    def _call(
        self, mode: str, key: str, rules: Sequence[Rule], cost: int, clock: str, reads: Sequence[str], token: str
    ) -> tuple[list[str], list[Any]]:
        """The script's KEYS and ARGV for one call (``clock``: µs, or '' for the server's)."""
        args: list[Any] = [mode, clock, cost, token, *self._rule_args(rules)]
        return [keys.internal(key, "log"), keys.internal(key, "win"), *reads], args

    def _run(
        self, mode: str, key: str, rules: Sequence[Rule], cost: int, clock: str, reads: Sequence[str], token: str
    ) -> list[Any]:
        names, args = self._call(mode, key, rules, cost, clock, reads, token)
        try:
            client = self._client_or_default()
            reply: list[Any] = self._registered(client)(keys=names, args=args)
            return reply
        except UNAVAILABLE as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _parse_rules(self, spec: bytes | str) -> tuple[Rule, ...]:
        """Rules remembered by the script ("S:L:r,S:L:f"), each counted the way it was."""
        text = spec.decode() if isinstance(spec, bytes) else spec
        parts = (part.split(":") for part in text.split(","))
        return tuple(
            Rule(int(s), int(n), rolling=kind == "r" and int(s) > self.rolling_max_seconds) for s, n, kind in parts
        )

    def _rule_args(self, rules: Sequence[Rule]) -> tuple[Any, ...]:
        cached = self._rule_args_cache.get(rules)
        if cached is None:
            cached = (len(rules), *(x for r in rules for x in (r.seconds, r.limit, "r" if self.is_rolling(r) else "f")))
            if len(self._rule_args_cache) > 4096:
                self._rule_args_cache.clear()
            self._rule_args_cache[tuple(rules)] = cached
        return cached

    def _registered(self, client: RedisClient) -> Script:
        cached = self._script
        if cached is None or cached[0] is not client:
            cached = (client, client.register_script(LUA))
            self._script = cached
        return cached[1]

    def _decision(
        self, rules: Sequence[Rule], reply: list[Any], reads: Sequence[str], token: str = "", cost: int = 1
    ) -> Decision:
        admitted, now_us, stored = reply[0], reply[1], reply[2]
        if admitted == -1:  # asked without rules, none remembered
            values = dict(zip(reads, reply[3:], strict=True))
            return Decision(False, (), now_us / MICRO, values, known=False)
        if stored is not None:
            rules = self._parse_rules(stored)
        states = tuple(
            RuleState(rule, int(reply[3 + 3 * i]), reply[4 + 3 * i] / MICRO, reply[5 + 3 * i] / MICRO)
            for i, rule in enumerate(rules)
        )
        read = reply[3 + 3 * len(rules) :]
        # An admission's receipt: its log members' token, its time, the rules it counted under.
        receipt = Receipt((token, int(now_us), tuple(rules)), cost) if admitted == 1 and token else None
        return Decision(admitted == 1, states, now_us / MICRO, dict(zip(reads, read, strict=True)), receipt=receipt)


def _new_token() -> str:
    return f"{_token_prefix[0]}{os.getpid():x}.{next(_calls):x}"  # unique per call across processes


def _clock(now: float | None) -> str:
    return "" if now is None else str(round(now * MICRO))


def _pool_for(client: RedisClient, name: str) -> ConnectionPool:
    """The connection pool of the server holding ``name`` (on a cluster: its slot's primary)."""
    if isinstance(client, RedisCluster):
        pool: ConnectionPool = client.get_redis_connection(client.get_node_from_key(name)).connection_pool
        return pool
    return client.connection_pool


class _SentScript(Sent):
    """An ``EVALSHA`` written to a pooled connection, its reply not read yet: read once, by
    :meth:`result` or :meth:`discard`; the connection goes back to its pool clean (reply read)
    or is closed."""

    def __init__(self, backend: RedisBackend, pool: ConnectionPool, connection: Any, call: tuple[Any, ...]) -> None:
        self._backend, self._pool, self._connection = backend, pool, connection
        self._call = call  # key, rules, cost, reads, token
        self._read = False

    def _reply(self) -> list[Any]:
        """The reply; raises what reading it raised (the connection released either way)."""
        if self._read:
            raise RuntimeError("a check sent ahead is answered once")
        self._read = True
        connection, pool = self._connection, self._pool
        try:
            reply: list[Any] = connection.read_response()
        except (ResponseError, RedisConnectionError, RedisTimeoutError) as exc:
            if not isinstance(exc, ResponseError):
                connection.disconnect()  # the reply may still be on its way: never reuse it
            pool.release(connection)
            raise
        except BaseException:
            connection.disconnect()
            pool.release(connection)
            raise
        pool.release(connection)
        return reply

    def result(self) -> Decision:
        key, rules, cost, reads, token = self._call
        try:
            reply = self._reply()
        except DID_NOT_RUN:
            # Not loaded on this server yet, the slot moved or is being moved, the cluster is
            # failing over: run it the usual way (loading it, following the redirection).
            return self._backend.check(key, rules, cost=cost, now=None, reads=reads)
        except RedisConnectionError:
            # The reply was lost (the script may have run): ask again the usual way. At worst
            # a request is counted twice, never missed.
            return self._backend.check(key, rules, cost=cost, now=None, reads=reads)
        except UNAVAILABLE as exc:
            # Timed out included: asking again would wait as long once more (the store hangs).
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        return self._backend._decision(rules, reply, reads, token, cost)

    def discard(self) -> Decision | None:
        _, rules, cost, reads, token = self._call
        try:
            reply = self._reply()
        except DID_NOT_RUN:
            return None  # nothing was counted
        except (RedisConnectionError, RedisTimeoutError):
            return None  # unknown: if it was counted, it stays counted (never one too few)
        except UNAVAILABLE:
            return None  # refused before running (read-only replica, out of memory)
        return self._backend._decision(rules, reply, reads, token, cost)

    def abandon(self) -> None:
        if self._read:
            return
        self._read = True
        self._connection.disconnect()  # its reply unread: never reuse it
        self._pool.release(self._connection)
