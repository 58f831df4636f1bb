"""Whether free text holds a secret of one of this deployment's keys (SPEC §2: a key never
appears in audit entries; §2a: nobody else receives another person's key secret). Used on
metadata that others read: a key's own (its audit entries, its readers) and a scan
upload's (its audit entry)."""

from __future__ import annotations

import re

from django.db.models import Q

from apikeys.keygen import digest_of, is_well_formed
from apikeys.models import ApiKey

# A key's body (SPEC §2): the last 32 lowercase hex of a run, after a prefix of 1 to 16
# characters whose own last letters may be hex too (``acme``, ``prod1``: settings allow them).
_KEY_BODY = re.compile(r"[0-9a-f]{32,}")
_PREFIX_MAX = 16  # apikeys.keygen.PREFIX_SHAPE
_CHUNK = 400


def holds_api_key(text: str) -> bool:
    """Whether ``text`` holds a secret of one of this deployment's keys (current, or rotated
    out), whatever its prefix. Looked up by digest, so made-up or foreign key-shaped strings
    are not keys; no query unless a key-shaped string is there."""
    digests = set()
    for run in _KEY_BODY.finditer(text):
        end = run.end()
        body = end - 32
        for start in range(max(0, body - _PREFIX_MAX), body):
            candidate = text[start:end]
            if is_well_formed(candidate):
                digests.add(digest_of(candidate))
    found = sorted(digests)
    for chunk in range(0, len(found), _CHUNK):
        part = found[chunk : chunk + _CHUNK]
        if ApiKey.objects.filter(Q(digest__in=part) | Q(previous_digest__in=part)).exists():
            return True
    return False
