"""``tater``: the Tater API from the command line.

Reads the key from ``TATER_API_KEY`` (never from an argument, which other users of the
machine could read in the process list; ``tater auth token`` needs none: it makes one) and the server from ``TATER_URL`` (default
``http://127.0.0.1:8000``). Exit codes: 0 done, 1 the API refused (the catalog code and
the request id go to stderr), 2 usage (bad arguments, no key, unreadable file).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial
from typing import Any

from tater_client import cli_auth, cli_keys, cli_orgs, cli_records, cli_scim
from tater_client.cli_base import EXIT_API_ERROR, EXIT_OK, EXIT_USAGE, Handler, KeylessHandler, UsageError
from tater_client.client import DEFAULT_URL, Tater
from tater_client.errors import TaterError
from tater_client.output import clean, report_error, write_fields, write_json, write_table
from tater_client.params import __version__

__all__ = ["EXIT_API_ERROR", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]


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


def cmd_me(client: Tater, args: argparse.Namespace) -> int:
    me = client.me()
    if args.json:
        write_json(sys.stdout, me.raw)
        return EXIT_OK
    current = me.current_organization
    write_fields(
        sys.stdout,
        [
            ("user", me.user.id),
            ("email", me.user.email),
            ("name", me.user.name or None),
            ("authentication", me.authentication),
            ("two-factor", "enabled" if me.two_factor_enabled else "not enabled"),
            ("tenant", [f"{t.name} ({t.id}, {t.role or 'no tenant role'})" for t in me.tenants]),
            ("organization", f"{current.name} ({current.id})" if current else None),
            ("permissions", me.permissions),
        ],
    )
    sys.stdout.write("\n")
    write_table(
        sys.stdout,
        ("ORGANIZATION", "NAME", "TENANT", "ROLE", "TENANT ROLE"),
        ([o.id, o.name, o.tenant_id, o.role, o.tenant_role] for o in me.organizations),
    )
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
        description="The Tater API from the command line. The key is read from TATER_API_KEY"
        " ('tater auth token' makes one from an account's email and password).",
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
    leaf(commands, "me", cmd_me, "show whom the key acts for: the user, their roles in its tenant and orgs")
    cli_keys.add_commands(commands, leaf)
    cli_records.add_commands(commands, leaf)
    cli_orgs.add_commands(commands, leaf)
    cli_scim.add_commands(commands, leaf)
    cli_auth.add_commands(commands, common)
    return parser


# --- main --------------------------------------------------------------------------------


def _with_client(handler: Handler, args: argparse.Namespace) -> int:
    with Tater(base_url=args.url, organization_id=args.organization, timeout=args.timeout) as client:
        return handler(client, args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    # `tater auth token` is how a key is got, so it runs without one; every other command with.
    run: KeylessHandler | None = getattr(args, "keyless_handler", None)
    handler: Handler | None = getattr(args, "handler", None)
    if run is None and handler is not None:
        run = partial(_with_client, handler)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return run(args)
    except (UsageError, ValueError) as exc:  # ValueError: no key, a bad URL, an id the client refuses ("..")
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
