"""``tater``: the Tater API from the command line.

Reads the key from ``TATER_API_KEY`` (never from an argument, which other users of the
machine could read in the process list) and the server from ``TATER_URL`` (default
``http://127.0.0.1:8000``). Exit codes: 0 done, 1 the API refused (the catalog code and
the request id go to stderr), 2 usage (bad arguments, no key, unreadable file).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tater_client.client import DEFAULT_URL, Tater
from tater_client.errors import TaterError
from tater_client.models import ApiKey, AuditEntry, IssuedKey, Scan
from tater_client.output import (
    as_text,
    clean,
    report_error,
    write_fields,
    write_json,
    write_table,
    write_terminal_text,
)
from tater_client.params import __version__

EXIT_OK, EXIT_API_ERROR, EXIT_USAGE = 0, 1, 2

Handler = Callable[[Tater, argparse.Namespace], int]


class UsageError(Exception):
    """A mistake in the command line or its inputs (exit 2)."""


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


def _print_issued(args: argparse.Namespace, issued: IssuedKey) -> int:
    if args.json:
        write_json(sys.stdout, issued.raw)
    else:
        pairs = [("key", issued.key), *_key_pairs(issued)]
        if issued.previous_key_valid_until is not None:
            pairs.append(("old key valid until", issued.previous_key_valid_until))
        write_fields(sys.stdout, pairs)
    sys.stderr.write(clean(issued.notice or "This is the only time the full key is shown.") + "\n")
    return EXIT_OK


# --- commands ----------------------------------------------------------------------------


def cmd_validate(client: Tater, args: argparse.Namespace) -> int:
    info = client.validate()
    if not info.valid:
        # Tater answers an invalid key with a 401; a 200 without "valid": true is not a
        # confirmation, and exit 0 must mean the key works (`tater validate && ...`).
        raise TaterError("The server did not confirm the key as valid", code="INVALID_RESPONSE")
    if args.json:
        write_json(sys.stdout, info.raw)
    else:
        write_fields(
            sys.stdout,
            [
                ("valid", info.valid),
                ("id", info.id),
                ("name", info.name),
                ("type", info.type),
                ("prefix", info.prefix),
                ("binding", info.binding),
                ("organization", info.organization_id),
                ("tenant", info.tenant_id),
                ("scopes", info.scopes),
                ("permissions", info.permissions),
                ("expires", info.expires_at),
            ],
        )
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


def _scopes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [scope.strip() for value in values for scope in value.split(",") if scope.strip()]


def cmd_keys_create(client: Tater, args: argparse.Namespace) -> int:
    issued = client.keys.create(
        args.name,
        type=args.type,
        scopes=_scopes(args.scopes),
        expires_at=args.expires_at,
        allowed_ips=args.allow_ip,
        rate_limit=args.rate_limit,
        unbound=True if args.unbound else None,
        usage_limit=args.usage_limit,
        usage_refill=args.usage_refill,
    )
    return _print_issued(args, issued)


def cmd_keys_rotate(client: Tater, args: argparse.Namespace) -> int:
    return _print_issued(args, client.keys.rotate(args.id, grace_period_seconds=args.grace_period))


def _key_action(action: str) -> Handler:
    def run(client: Tater, args: argparse.Namespace) -> int:
        key: ApiKey = getattr(client.keys, action)(args.id)
        if args.json:
            write_json(sys.stdout, key.raw)
        else:
            sys.stdout.write(f"{as_text(key.id)}  {as_text(key.name)}  status={as_text(key.status)}\n")
        return EXIT_OK

    return run


def _read_scan(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


SCAN_COLUMNS = ("ID", "SCANNER", "TARGET", "STARTED", "FINDINGS", "UPLOADED BY")


def _scan_row(scan: Scan) -> list[Any]:
    return [
        scan.id,
        scan.scanner,
        scan.target,
        scan.started_at,
        scan.finding_count,
        scan.uploaded_by.key_id or scan.uploaded_by.user,
    ]


def cmd_scans_upload(client: Tater, args: argparse.Namespace) -> int:
    scan = client.scans.upload(_read_scan(args.file), tenant_id=args.tenant)
    if args.json:
        write_json(sys.stdout, scan.raw)
    else:
        counts = ", ".join(f"{n} {as_text(s)}" for s, n in scan.severity_counts.items() if n) or "no findings"
        head = f"{as_text(scan.id)}  {as_text(scan.scanner)} {as_text(scan.target)}"
        sys.stdout.write(f"{head}: {scan.finding_count} findings ({counts})\n")
    return EXIT_OK


def cmd_scans_list(client: Tater, args: argparse.Namespace) -> int:
    page = client.scans.list(
        scanner=args.scanner,
        severity=args.severity,
        since=args.since,
        until=args.until,
        limit=args.limit,
        offset=args.offset,
    )
    if args.json:
        write_json(sys.stdout, page.raw)
        return EXIT_OK
    write_table(sys.stdout, SCAN_COLUMNS, (_scan_row(s) for s in page.scans))
    shown = page.offset + len(page.scans)
    if page.scans and shown < page.total:  # scans page by offset only (GET scans/)
        sys.stderr.write(f"{shown} of {page.total} scans shown: --offset {shown} for more\n")
    return EXIT_OK


def cmd_scans_get(client: Tater, args: argparse.Namespace) -> int:
    scan = client.scans.get(args.id)
    if args.json:
        write_json(sys.stdout, scan.raw)
        return EXIT_OK
    write_fields(
        sys.stdout,
        [
            ("id", scan.id),
            ("scanner", scan.scanner),
            ("target", scan.target),
            ("started", scan.started_at),
            ("finished", scan.finished_at),
            ("organization", scan.organization_id),
            ("severities", scan.severity_counts),
            ("uploaded by", scan.uploaded_by.user),
            ("with key", scan.uploaded_by.key_id),
            ("key prefix", scan.uploaded_by.key_prefix),
        ],
    )
    write_table(
        sys.stdout,
        ("SEVERITY", "TITLE", "HOST", "PORT", "CVE"),
        ([f.severity, f.title, f.host or None, f.port, f.cve or None] for f in scan.findings or []),
    )
    return EXIT_OK


AUDIT_COLUMNS = ("TIME", "ACTION", "CHANNEL", "ACTOR", "KEY", "TARGET")


def _audit_row(entry: AuditEntry) -> list[Any]:
    target = entry.target and (f"{entry.target.type}:{entry.target.id}" if entry.target.id else entry.target.type)
    return [entry.time, entry.action, entry.channel, entry.actor.email or None, entry.key_id, target]


def _audit_filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "channel": args.channel,
        "action": args.action_filter,
        "actor": args.actor,
        "key": args.key,
        "target": args.target,
        "since": args.since,
        "until": args.until,
    }


def cmd_audit_list(client: Tater, args: argparse.Namespace) -> int:
    page = client.audit.list(**_audit_filters(args), cursor=args.cursor, limit=args.limit)
    if args.json:
        write_json(sys.stdout, page.raw)
        return EXIT_OK
    write_table(sys.stdout, AUDIT_COLUMNS, (_audit_row(e) for e in page.entries))
    if page.next_cursor:
        sys.stderr.write(f"more: --cursor {clean(page.next_cursor)}\n")
    return EXIT_OK


def cmd_audit_export(client: Tater, args: argparse.Namespace) -> int:
    filters = _audit_filters(args)
    if args.output in (None, "-"):
        if sys.stdout.isatty():
            # Read by a person: entries hold text anyone could send (a User-Agent).
            write_terminal_text(sys.stdout, client.audit.export(**filters))
            return EXIT_OK
        for chunk in client.audit.export(**filters):
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return EXIT_OK
    try:
        written = client.audit.export_to(args.output, **filters)
    except OSError as exc:  # a missing directory, no permission, a full disk: exit 2, no traceback
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    if args.json:
        write_json(sys.stdout, {"output": str(args.output), "bytes": written})
    else:
        sys.stderr.write(f"wrote {written} bytes to {args.output}\n")
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------


def _common(defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command (``tater --json keys list`` and
    ``tater keys list --json``); after it they leave unset what the user did not give."""
    common = argparse.ArgumentParser(add_help=False)

    def default(value: Any) -> Any:
        return value if defaults else argparse.SUPPRESS

    common.add_argument("--url", default=default(None), help=f"server URL (default $TATER_URL, else {DEFAULT_URL})")
    common.add_argument("--json", action="store_true", default=default(False), help="print the API's JSON")
    common.add_argument(
        "--organization",
        "--org",
        dest="organization",
        metavar="ORG_ID",
        default=default(None),
        help="organization hint (organizationId), for unbound keys",
    )
    common.add_argument(
        "--timeout", type=float, default=default(30.0), metavar="SECONDS", help="per request (default 30)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common(defaults=False)
    parser = argparse.ArgumentParser(
        prog="tater",
        description="The Tater API from the command line. The key is read from TATER_API_KEY.",
        parents=[_common(defaults=True)],
        epilog="Exit codes: 0 ok, 1 API error (code and request id on stderr), 2 usage.",
    )
    parser.add_argument("--version", action="version", version=f"tater-client {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def leaf(group: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    leaf(commands, "validate", cmd_validate, "show the key's identity and effective permissions")

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

    scans = commands.add_parser("scans", help="scans").add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = leaf(scans, "upload", cmd_scans_upload, "upload a scan (a JSON file, - for stdin)")
    sub.add_argument("file")
    sub.add_argument("--tenant", metavar="TENANT_ID", help="tenantId, as TATER's snippets send it")
    sub = leaf(scans, "list", cmd_scans_list, "list scans, newest first")
    sub.add_argument("--scanner")
    sub.add_argument("--severity", help="info|low|medium|high|critical, comma-separated")
    sub.add_argument("--since", metavar="ISO8601")
    sub.add_argument("--until", metavar="ISO8601")
    sub.add_argument("--limit", type=int)
    sub.add_argument("--offset", type=int)
    sub = leaf(scans, "get", cmd_scans_get, "show one scan with its findings")
    sub.add_argument("id")

    audit = commands.add_parser("audit", help="audit log").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    for name, handler, text in (
        ("list", cmd_audit_list, "list entries, newest first"),
        ("export", cmd_audit_export, "stream the CSV export to a file or stdout"),
    ):
        sub = leaf(audit, name, handler, text)
        sub.add_argument("--channel", choices=["ui", "api", "admin", "system", "scim"])
        sub.add_argument("--action", dest="action_filter", metavar="ACTION", help="e.g. api_key.created or api_key.*")
        sub.add_argument("--actor", help="user email or id (usr-...)")
        sub.add_argument("--key", metavar="KEY_ID", help="made with this key: the acting key's id")
        sub.add_argument("--target", metavar="ID", help="about this key, person or org: its id (key-..., usr-...)")
        sub.add_argument("--since", metavar="ISO8601", required=name == "export", help="date or date-time")
        sub.add_argument("--until", metavar="ISO8601", help="date (the whole day) or date-time")
        if name == "list":
            sub.add_argument("--limit", type=int, help="1-500 (default 50)")
            sub.add_argument("--cursor", help="next page, as printed by the previous one")
        else:
            sub.add_argument("--output", "-o", metavar="FILE", help="write here (default stdout)")
    return parser


# --- main --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        client = Tater(base_url=args.url, organization_id=args.organization, timeout=args.timeout)
    except ValueError as exc:
        sys.stderr.write(f"tater: {clean(str(exc))}\n")
        return EXIT_USAGE
    try:
        with client:
            return handler(client, args)
    except (UsageError, ValueError) as exc:  # ValueError: an argument the client refuses (an id "..")
        sys.stderr.write(f"tater: {clean(str(exc))}\n")
        return EXIT_USAGE
    except TaterError as exc:
        report_error(exc, args.json)
        return EXIT_API_ERROR
    except BrokenPipeError:
        # The reader went away (| head): not an error of ours; keep Python quiet about it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
