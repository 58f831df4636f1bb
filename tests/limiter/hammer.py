"""Worker process of test_concurrency: hammer one entity on Redis until a deadline.

Says ``ready`` once connected, reads the start instant (epoch seconds) from stdin, then
prints a JSON list of ``[server time, admitted]`` per check. Runs without Django settings:
the Redis backend with an explicit client needs none.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import redis

from tater.limiter import Entity, Limiter, RedisBackend, Rule


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument("--ca-file", default="")
    parser.add_argument("--key", required=True)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--limit", type=int, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--pause", type=float, default=0.001)
    args = parser.parse_args()

    options = {"ssl_ca_certs": args.ca_file} if args.ca_file else {}
    client = (
        redis.RedisCluster.from_url(args.url, **options) if args.cluster else redis.Redis.from_url(args.url, **options)
    )
    limiter = Limiter(RedisBackend(client), fail_open=False)
    entity = Entity(args.key, [Rule(args.seconds, args.limit)])
    limiter.peek(entity)  # connected (and the script loaded) before the start
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    time.sleep(max(0.0, start - time.time()))
    attempts = []
    while time.time() < start + args.duration:
        decision = limiter.check(entity)
        attempts.append([decision.now, decision.admitted])
        time.sleep(args.pause)
    json.dump(attempts, sys.stdout)


if __name__ == "__main__":
    main()
