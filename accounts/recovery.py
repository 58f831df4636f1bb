"""Recovery codes: 24 base32 characters (120 random bits) in groups of four, stored as a
SHA-256 digest. The entropy makes a slow hash unnecessary: nobody can enumerate 2**120."""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32: no 0/1/8/9 to misread
LENGTH = 24
GROUP = 4
COUNT = 10


def generate() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(code: str) -> str:
    """What the user typed, without separators, spaces or case differences."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def digest(code: str) -> str:
    return hashlib.sha256(normalize(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(normalize(code)) == LENGTH
