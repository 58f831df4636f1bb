"""``tater scim-tokens ...``: the tenant's SCIM tokens (the owner's unbound key)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tater_client.cli_base import EXIT_OK, Leaf, print_list
from tater_client.client import Tater
from tater_client.org_models import ScimToken
from tater_client.output import write_fields, write_json

TOKEN_COLUMNS = ("ID", "NAME", "PREFIX", "STATUS", "CREATED BY", "CREATED", "LAST USED")


def _token_row(token: ScimToken) -> list[Any]:
    return [token.id, token.name, token.prefix, token.status, token.created_by, token.created_at, token.last_used_at]


def _token_pairs(token: ScimToken) -> list[tuple[str, Any]]:
    return [
        ("id", token.id),
        ("name", token.name),
        ("prefix", token.prefix),
        ("status", token.status),
        ("tenant", token.tenant_id),
        ("created by", token.created_by),
        ("created", token.created_at),
        ("last used", token.last_used_at),
        ("revoked", token.revoked_at),
    ]


def cmd_scim_tokens_list(client: Tater, args: argparse.Namespace) -> int:
    return print_list(
        args,
        key="tokens",
        noun="SCIM tokens",
        columns=TOKEN_COLUMNS,
        row=_token_row,
        every=client.scim_tokens.iter,
        page=lambda: client.scim_tokens.list(limit=args.limit, offset=args.offset),
        items=lambda page: page.tokens,
    )


def cmd_scim_tokens_revoke(client: Tater, args: argparse.Namespace) -> int:
    token = client.scim_tokens.revoke(args.token_id)
    if args.json:
        write_json(sys.stdout, token.raw)
    else:
        write_fields(sys.stdout, _token_pairs(token))
    return EXIT_OK


def add_commands(commands: Any, leaf: Leaf) -> None:
    tokens = commands.add_parser(
        "scim-tokens", help="the tenant's SCIM tokens (tenant owners, unbound key)"
    ).add_subparsers(dest="action", metavar="ACTION", required=True)
    sub = leaf(tokens, "list", cmd_scim_tokens_list, "the tenant's SCIM tokens, newest first (never a secret)")
    sub.add_argument("--limit", type=int, help="page size, 1-200 (default 50)")
    sub.add_argument("--offset", type=int, help="skip N tokens")
    sub.add_argument("--all", action="store_true", help="every token (every page)")
    leaf(
        tokens, "revoke", cmd_scim_tokens_revoke, "revoke a SCIM token: the identity provider is refused at once"
    ).add_argument("token_id", metavar="TOKEN_ID")
