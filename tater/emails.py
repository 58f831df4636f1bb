"""The one way Tater compares email addresses (SPEC §8).

Two spellings are the same address when they are equal after NFKC normalisation and case
folding: ``OWNER@demo.tater.test``, ``owner@demo.tater.teſt`` (U+017F long s) and
``ｏwner@demo.tater.test`` (fullwidth o) all name one account. Comparing with anything
weaker lets a spelling the database folds (PostgreSQL's ``UPPER()`` behind ``iexact`` folds
the long s) reach an account while the lockout, the audit and the uniqueness checks count
it as another one. Every lookup of an account by email, every lockout key and every
uniqueness check goes through ``normalize_email``; ``iexact`` is never used for emails.

The domain is also compared the way DNS, mail and the verified domains
(accounts.domains) see it, through IDNA: its ASCII form (``xn--bcher-kva.test``), a
character IDNA drops (a soft hyphen, a zero-width space) and an ideographic full stop all
name the domain ``bücher.test``, so they name one account too, never a second account of
the same mailbox.
"""

from __future__ import annotations

import functools
import sys
import unicodedata


def fold(value: str | None) -> str:
    """NFKC, then case folded, without surrounding whitespace: a case-insensitive key for a
    name that is not an email address (a SCIM group's displayName)."""
    return unicodedata.normalize("NFKC", value or "").casefold().strip()


def normalize_email(value: str | None) -> str:
    """The comparison key of an email address: NFKC, then case folded, without surrounding
    whitespace, its domain in IDNA's Unicode form. Not for display or for sending mail (use
    the address as stored)."""
    key = fold(value)
    local, at, domain = key.rpartition("@")
    if not at or not domain:
        return key
    return f"{local}@{_domain_key(domain)}"


def lowered_local_parts(key: str, limit: int = 64) -> set[str]:
    """The local parts a store that only lower-cases addresses may hold for ``key``'s (a
    ``normalize_email`` result): ``strasse`` is also stored as ``straße``, ``σ`` as ``ς``. At
    most ``limit`` of them (the plainest first); for a ``startswith`` lookup, whose rows are
    kept only when their ``normalize_email`` is the key."""
    local = key.rpartition("@")[0] if "@" in key else key
    found: set[str] = set()
    budget = [limit * 16]  # steps: a string of many "ss" has many ways to the same spellings

    def expand(done: str, rest: str) -> None:
        budget[0] -= 1
        if len(found) >= limit or budget[0] < 0:
            return
        if not rest:
            found.add(done)
            return
        for target, spellings in _unfolded().items():
            if rest.startswith(target):
                for spelling in spellings:
                    expand(done + spelling, rest[len(target) :])
        if rest[0] not in _unfolded():
            expand(done + rest[0], rest[1:])

    expand("", local)
    return found


@functools.cache
def _unfolded() -> dict[str, tuple[str, ...]]:
    # What case folding turns into something else than lower-casing does: ``ss`` from ``ß``.
    # Addresses are stored in NFKC (accounts.adapter), so ``ſ`` or ``ﬆ`` never are.
    table: dict[str, set[str]] = {}
    for point in range(sys.maxunicode + 1):
        lowered = chr(point).lower()
        if lowered.casefold() != lowered and unicodedata.normalize("NFKC", lowered) == lowered:
            table.setdefault(lowered.casefold(), set()).add(lowered)
    return {target: (target, *sorted(spellings)) for target, spellings in table.items()}


def _domain_key(domain: str) -> str:
    # IDNA 2003, as Django's mail (django.utils.encoding.punycode) and accounts.domains
    # encode a domain: ToASCII then ToUnicode. A domain IDNA refuses stays as folded (no
    # mail reaches it, and no verified domain is spelled like it).
    try:
        return domain.encode("idna").decode("idna")
    except UnicodeError:
        return domain


def nfkc(value: str | None) -> str:
    """NFKC only (no case folding), for addresses about to be stored or validated: a
    fullwidth or otherwise compatibility-encoded address becomes its plain form."""
    return unicodedata.normalize("NFKC", value or "").strip()
