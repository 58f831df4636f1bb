"""``tater auth token``: an account's email and password exchanged for a new API key (SPEC §5,
``POST auth/token``). It runs without ``TATER_API_KEY``: it is how a script gets one."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from tater_client.cli_base import UsageError
from tater_client.cli_keys import print_issued, scope_list
from tater_client.client import Tater
from tater_client.errors import InvalidOtp
from tater_client.models import IssuedKey

PASSWORD_ENV = "TATER_PASSWORD"
CODE_ENV = "TATER_OTP_CODE"


def _secret(env: str, prompt: str, what: str) -> str:
    """From ``env``, else asked without echo; never an argument (the process list shows those)."""
    value = os.environ.get(env)
    if value is None:
        try:
            value = getpass.getpass(prompt)
        except EOFError:
            value = ""
    if not value:
        raise UsageError(f"No {what}: type it at the prompt, or set {env}")
    return value


def cmd_auth_token(args: argparse.Namespace) -> int:
    password = _secret(PASSWORD_ENV, f"Password for {args.email}: ", "password")
    code = os.environ.get(CODE_ENV) or None

    def exchange() -> IssuedKey:
        return Tater.exchange_credentials(
            args.url,
            email=args.email,
            password=password,
            code=code,
            organization_id=args.organization,
            name=args.name,
            scopes=scope_list(args.scopes),
            expires_at=args.expires_at,
            timeout=args.timeout,
        )

    try:
        issued = exchange()
    except InvalidOtp as exc:
        if not exc.code_required:
            raise  # a code was sent and refused, or codes are throttled: asking again won't help
        # The account has two-factor authentication: nothing was created, ask for the code.
        code = _secret(CODE_ENV, "Verification code (authenticator app or recovery code): ", "verification code")
        issued = exchange()
    return print_issued(args, issued)


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    auth = commands.add_parser("auth", help="credentials (no API key needed)").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    text = (
        f"exchange an account's email and password for a new API key, printed once (password: ${PASSWORD_ENV}"
        f" or a prompt; the 2FA code: ${CODE_ENV} or a prompt; never an argument)"
    )
    sub = auth.add_parser("token", parents=[common], help=text, description=text)
    sub.set_defaults(keyless_handler=cmd_auth_token)
    sub.add_argument("--email", required=True)
    sub.add_argument("--name", help='the key\'s name (default "Credential exchange <date>")')
    sub.add_argument(
        "--scopes",
        action="append",
        metavar="SCOPES",
        help='comma-separated, repeatable: "*:read", "scans:write" (default: your own permissions)',
    )
    sub.add_argument("--expires-at", metavar="ISO8601", help="e.g. 2026-12-31T00:00:00Z")
