"""Whether free text holds one of this deployment's SCIM tokens (revoked or not), registered
with ``tater.secret_detectors`` (scim.apps): a SCIM token is treated as a key (README), so it
never goes into an audit entry, as ``apikeys.secrets_in_text`` keeps API keys out."""

from __future__ import annotations

import re

from scim import tokens
from scim.models import ScimToken

_TOKEN = re.compile(rf"{tokens.PREFIX}[0-9a-f]{{{tokens.BODY_HEX}}}")
_CHUNK = 400


def holds_scim_token(text: str) -> bool:
    """Looked up by digest, so made-up ``scim_``-shaped strings are no tokens; no query unless
    one is there."""
    found = sorted({tokens.digest_of(match.group()) for match in _TOKEN.finditer(text)})
    return any(
        ScimToken.objects.filter(digest__in=found[start : start + _CHUNK]).exists()
        for start in range(0, len(found), _CHUNK)
    )
