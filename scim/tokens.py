"""SCIM token format: ``scim_<32 lowercase hex>`` (16 bytes from ``secrets``), its own type
and prefix, so it can never pass for an API key (``tater_``, ``ak_``, ``ck_``) and an API
key never passes for it. Only the SHA-256 digest and a display prefix are stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

PREFIX = "scim_"
BODY_HEX = 32
DISPLAY_HEX = 4
_FORMAT = re.compile(rf"^{PREFIX}[0-9a-f]{{{BODY_HEX}}}$")


@dataclass(frozen=True)
class NewSecret:
    token: str  # shown once, never stored
    digest: str
    display_prefix: str


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate() -> NewSecret:
    token = PREFIX + secrets.token_hex(BODY_HEX // 2)
    return NewSecret(token=token, digest=digest_of(token), display_prefix=token[: len(PREFIX) + DISPLAY_HEX])


def is_well_formed(token: str) -> bool:
    """A cheap syntactic check, so malformed input never reaches the database."""
    return len(token) <= 64 and _FORMAT.match(token) is not None
