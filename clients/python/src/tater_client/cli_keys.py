"""``tater keys ...``: API keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tater_client.cli_base import EXIT_OK, Handler, Leaf
from tater_client.client import Tater
from tater_client.models import ApiKey, IssuedKey
from tater_client.output import as_text, clean, write_fields, write_json, write_table

# --- output ------------------------------------------------------------------------------


def _key_pairs(key: ApiKey) -> list[tuple[str, Any]]:
    return [
        ("id", key.id),
        ("name", key.name),
        ("type", key.type),
        ("prefix", key.prefix),
        ("status", key.status),
        ("binding", key.binding),
        ("organization", key.organization_id),
        ("owner", key.owner),
        ("scopes", key.scopes),
        ("expires", key.expires_at),
        ("last used", key.last_used_at),
        ("allowed IPs", key.allowed_ips),
        ("rate limit", key.rate_limit or None),
        (
            "uses left",
            f"{key.usage.remaining} of {key.usage.limit} ({key.usage.refill or 'no refill'})" if key.usage else None,
        ),
        ("created", key.created_at),
    ]


KEY_COLUMNS = ("ID", "NAME", "TYPE", "PREFIX", "STATUS", "EXPIRES", "LAST USED")


def _key_row(key: ApiKey) -> list[Any]:
    return [key.id, key.name, key.type, key.prefix, key.status, key.expires_at, key.last_used_at]


def _print_key(args: argparse.Namespace, key: ApiKey) -> int:
    if args.json:
        write_json(sys.stdout, key.raw)
    else:
        write_fields(sys.stdout, _key_pairs(key))
    return EXIT_OK


def print_issued(args: argparse.Namespace, issued: IssuedKey) -> int:
    if args.json:
        write_json(sys.stdout, issued.raw)
    else:
        pairs = [("key", issued.key), *_key_pairs(issued)]
        if issued.previous_key_valid_until is not None:
            pairs.append(("old key valid until", issued.previous_key_valid_until))
        write_fields(sys.stdout, pairs)
    sys.stderr.write(clean(issued.notice or "This is the only time the full key is shown.") + "\n")
    return EXIT_OK


def cmd_keys_list(client: Tater, args: argparse.Namespace) -> int:
    if args.all:
        keys = list(client.keys.iter(status=args.status, type=args.type, binding=args.binding))
        if args.json:
            write_json(sys.stdout, {"keys": [k.raw for k in keys], "total": len(keys)})
            return EXIT_OK
    else:
        page = client.keys.list(
            status=args.status,
            type=args.type,
            binding=args.binding,
            limit=args.limit,
            offset=args.offset,
            starting_after=args.starting_after,
        )
        if args.json:
            write_json(sys.stdout, page.raw)
            return EXIT_OK
        keys = page.keys
        more = page.has_more if page.has_more is not None else page.offset + len(keys) < page.total
        if keys and more:
            # After the last key shown, whatever is created or revoked meanwhile (an offset
            # would skip keys of a filtered list that shrinks as the user acts on it).
            sys.stderr.write(
                f"{len(keys)} of {page.total} keys shown: --starting-after {clean(keys[-1].id)} for more\n"
            )
    write_table(sys.stdout, KEY_COLUMNS, (_key_row(k) for k in keys))
    return EXIT_OK


def cmd_keys_get(client: Tater, args: argparse.Namespace) -> int:
    return _print_key(args, client.keys.get(args.id))


def cmd_keys_usage(client: Tater, args: argparse.Namespace) -> int:
    history = client.keys.usage_history(args.id, hours=args.hours, days=args.days)
    if args.json:
        write_json(sys.stdout, history.raw)
        return EXIT_OK
    requests = f"{history.requests} request{'' if history.requests == 1 else 's'}"
    errors = f"{history.errors} error{'' if history.errors == 1 else 's'}"
    span = f"{as_text(history.start)} to {as_text(history.end)}"
    sys.stdout.write(f"{as_text(history.key_id)}: {requests}, {errors} ({span}, per {as_text(history.granularity)})\n")
    write_table(sys.stdout, ("HOUR", "REQUESTS", "ERRORS"), ([b.hour, b.requests, b.errors] for b in history.buckets))
    return EXIT_OK


def scope_list(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [scope.strip() for value in values for scope in value.split(",") if scope.strip()]


def cmd_keys_create(client: Tater, args: argparse.Namespace) -> int:
    issued = client.keys.create(
        args.name,
        type=args.type,
        scopes=scope_list(args.scopes),
        expires_at=args.expires_at,
        allowed_ips=args.allow_ip,
        rate_limit=args.rate_limit,
        unbound=True if args.unbound else None,
        usage_limit=args.usage_limit,
        usage_refill=args.usage_refill,
    )
    return print_issued(args, issued)


def cmd_keys_rotate(client: Tater, args: argparse.Namespace) -> int:
    return print_issued(args, client.keys.rotate(args.id, grace_period_seconds=args.grace_period))


def _key_action(action: str) -> Handler:
    def run(client: Tater, args: argparse.Namespace) -> int:
        key: ApiKey = getattr(client.keys, action)(args.id)
        if args.json:
            write_json(sys.stdout, key.raw)
        else:
            sys.stdout.write(f"{as_text(key.id)}  {as_text(key.name)}  status={as_text(key.status)}\n")
        return EXIT_OK

    return run


def add_commands(commands: Any, leaf: Leaf) -> None:
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = leaf(keys, "list", cmd_keys_list, "list keys")
    sub.add_argument("--status", choices=["active", "expired", "revoked", "inactive"])
    sub.add_argument("--type", choices=["standard", "agent", "public"])
    sub.add_argument("--binding", choices=["organization", "org", "unbound"])
    sub.add_argument("--limit", type=int, help="page size, 1-200 (default 50)")
    sub.add_argument("--starting-after", metavar="KEY_ID", help="the page after this key (as the hint prints)")
    sub.add_argument("--offset", type=int, help="skip N keys (--starting-after keeps its place while keys change)")
    sub.add_argument("--all", action="store_true", help="every page")
    sub = leaf(keys, "get", cmd_keys_get, "show one key")
    sub.add_argument("id")
    sub = leaf(keys, "usage", cmd_keys_usage, "a key's requests and errors per hour, oldest first")
    sub.add_argument("id")
    window = sub.add_mutually_exclusive_group()
    window.add_argument("--hours", type=int, metavar="N", help="the last N hours, 1-2160 (default 24)")
    window.add_argument("--days", type=int, metavar="N", help="the last N days, 1-90")
    sub = leaf(keys, "create", cmd_keys_create, "create a key (its secret is printed once)")
    sub.add_argument("--name", required=True)
    sub.add_argument("--type", choices=["standard", "agent", "public"])
    sub.add_argument(
        "--scopes",
        action="append",
        metavar="SCOPES",
        help='comma-separated, repeatable: "*", "*:read", "scans:write" (default: your own permissions; '
        'agent keys: "scans:write" only)',
    )
    sub.add_argument("--expires-at", metavar="ISO8601", help="e.g. 2026-12-31T00:00:00Z")
    sub.add_argument("--allow-ip", action="append", metavar="CIDR", help="repeatable IP allowlist entry")
    sub.add_argument("--rate-limit", metavar="RATE", help='stricter per-key limit, e.g. "5/min"')
    sub.add_argument("--usage-limit", type=int, metavar="N", help="at most N requests (then 429 USAGE_EXHAUSTED)")
    sub.add_argument("--usage-refill", choices=["daily", "monthly"], help="the uses come back (default: never)")
    sub.add_argument("--unbound", action="store_true", help="tenant-wide key (tenant owners, signed-in session)")
    sub = leaf(keys, "rotate", cmd_keys_rotate, "issue a new secret for a key (printed once)")
    sub.add_argument("id")
    sub.add_argument("--grace-period", type=int, metavar="SECONDS", help="how long the old secret keeps working")
    for action, text in (
        ("revoke", "revoke a key for good"),
        ("deactivate", "suspend a key"),
        ("activate", "reactivate a key"),
    ):
        leaf(keys, action, _key_action(action), text).add_argument("id")
