"""The one way Tater compares email addresses (SPEC §8).

Two spellings are the same address when they are equal after NFKC normalisation and case
folding: ``OWNER@demo.tater.test``, ``owner@demo.tater.teſt`` (U+017F long s) and
``ｏwner@demo.tater.test`` (fullwidth o) all name one account. Comparing with anything
weaker lets a spelling the database folds (PostgreSQL's ``UPPER()`` behind ``iexact`` folds
the long s) reach an account while the lockout, the audit and the uniqueness checks count
it as another one. Every lookup of an account by email, every lockout key and every
uniqueness check goes through ``normalize_email``; ``iexact`` is never used for emails.
"""

from __future__ import annotations

import unicodedata


def normalize_email(value: str | None) -> str:
    """The comparison key of an email address: NFKC, then case folded, without surrounding
    whitespace. Not for display or for sending mail (use the address as stored)."""
    return unicodedata.normalize("NFKC", value or "").casefold().strip()


def nfkc(value: str | None) -> str:
    """NFKC only (no case folding), for addresses about to be stored or validated: a
    fullwidth or otherwise compatibility-encoded address becomes its plain form."""
    return unicodedata.normalize("NFKC", value or "").strip()
