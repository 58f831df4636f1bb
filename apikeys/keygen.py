"""Key format (SPEC §2): ``<prefix><32 lowercase hex>``, 16 bytes from ``secrets``."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed

BODY_HEX = 32
DISPLAY_HEX = 4


@dataclass(frozen=True)
class NewSecret:
    key: str  # shown once, never stored
    digest: str
    display_prefix: str


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix_of(key: str) -> str:
    """The prefix a key is shown by: its type prefix (whichever it was issued under) and the
    first hex characters of its body."""
    return key[: len(key) - BODY_HEX + DISPLAY_HEX]


def generate(key_type: str) -> NewSecret:
    prefix = settings.TATER_KEY_PREFIXES[key_type]
    key = prefix + secrets.token_hex(BODY_HEX // 2)
    return NewSecret(key=key, digest=digest_of(key), display_prefix=display_prefix_of(key))


# Any prefix a deployment may configure (tater.settings checks TATER_KEY_PREFIX_*): a key
# issued under an earlier prefix stays well-formed after the prefix changes (SPEC §2). Lookup
# is by the digest of the whole key, so the prefix decides nothing else.
PREFIX_SHAPE = r"[A-Za-z][A-Za-z0-9_-]{0,15}"  # 16 at most: display_prefix holds it + 4 hex


@lru_cache(maxsize=8)
def _pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives}|{PREFIX_SHAPE})[0-9a-f]{{{BODY_HEX}}}$")


_current: list[re.Pattern[str] | None] = [None]  # the pattern of the current settings


def _reset(*, setting: str, **kwargs: object) -> None:
    if setting == "TATER_KEY_PREFIXES":
        _current[0] = None


setting_changed.connect(_reset, dispatch_uid="apikeys.keygen.reset")


def is_well_formed(key: str) -> bool:
    """A cheap syntactic check, so malformed input never reaches the database."""
    pattern = _current[0]
    if pattern is None:
        pattern = _current[0] = _pattern(tuple(settings.TATER_KEY_PREFIXES.values()))
    return len(key) <= 64 and pattern.match(key) is not None
