"""``tater scans ...`` and ``tater audit ...``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tater_client.cli_base import EXIT_OK, Leaf, UsageError
from tater_client.client import Tater
from tater_client.models import AuditEntry, Scan
from tater_client.output import as_text, clean, write_fields, write_json, write_table, write_terminal_text


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


def add_commands(commands: Any, leaf: Leaf) -> None:
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
