"""detect-secrets plugin: Tater API keys (SPEC §2, §14).

    detect-secrets scan --plugin scanners/detect_secrets_tater.py

A key is a prefix and exactly 32 lowercase hex digits: ``tater_`` (standard), ``ak_``
(agent), ``ck_`` (public) and ``scim_`` (SCIM tokens). A deployment that changed its
prefixes names them in the same environment variables as the app
(``TATER_KEY_PREFIX_STANDARD``, ``_AGENT``, ``_PUBLIC``, ``_SCIM``); the default prefixes
stay recognised, since keys keep the prefix they were issued with.

Word boundaries on both sides (an escaped line break or tab, ``\n``, a ``\\u`` or ``\\x``
escape, ``\\u201c``, and a percent-encoded byte, ``%20``, count as one before the prefix):
``mytater_…``, ``x_ak_…``, 31 or 33 hex digits and uppercase hex are not keys. This file
imports nothing but detect-secrets and the standard library, so it runs outside the
project's environment too (pre-commit).
"""

from __future__ import annotations

import os
import re

from detect_secrets.plugins.base import RegexBasedDetector

DEFAULT_PREFIXES = ("tater_", "ak_", "ck_", "scim_")
PREFIX_VARIABLES = (
    "TATER_KEY_PREFIX_STANDARD",
    "TATER_KEY_PREFIX_AGENT",
    "TATER_KEY_PREFIX_PUBLIC",
    "TATER_KEY_PREFIX_SCIM",
)
# A prefix must start with a word character, or the word boundary before it means nothing.
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def key_prefixes() -> tuple[str, ...]:
    """The default prefixes and any a deployment configured, longest first."""
    configured = (os.environ.get(name, "").strip() for name in PREFIX_VARIABLES)
    prefixes = set(DEFAULT_PREFIXES) | {p for p in configured if _PREFIX.match(p)}
    return tuple(sorted(prefixes, key=lambda p: (-len(p), p)))


def key_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    # re.ASCII: \b as in Go's RE2 (gitleaks), so "étater_…" is a key in both.
    alternatives = "|".join(re.escape(p) for p in prefixes)
    # The key alone (findall's one group), after a boundary, an escaped line break or tab, a
    # \u or \x escape or a percent-encoded byte: "…\ntater_…" or "\u201ctater_…" (Python's
    # json.dumps of curly quotes) in a JSON string, "?q=%20ak_…" in a URL.
    return re.compile(
        rf"(?:\b|\\[nrt]|\\u[0-9A-Fa-f]{{4}}|\\x[0-9A-Fa-f]{{2}}|%[0-9A-Fa-f]{{2}})((?:{alternatives})[0-9a-f]{{32}})\b",
        re.ASCII,
    )


class TaterKeyDetector(RegexBasedDetector):
    """Scans for Tater API keys (standard, agent, public and SCIM)."""

    secret_type = "Tater API key"

    denylist = (key_pattern(key_prefixes()),)
