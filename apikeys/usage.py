"""Per-key usage bookkeeping on the request path, with no database write per request.

``last_used_at``/``last_used_ip`` are kept current to within a minute: a process-local
memo skips the shared cache on most requests, and a shared-cache ``add`` lets exactly
one request per key per minute (across every worker) write the row.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils import timezone

from apikeys.principal import KeyPrincipal

LAST_USED_INTERVAL = 60
_local_next_write: dict[int, float] = {}


def touch(principal: KeyPrincipal, ip: str) -> None:
    now = time.monotonic()
    if _local_next_write.get(principal.pk, 0.0) > now:
        return
    _local_next_write[principal.pk] = now + LAST_USED_INTERVAL
    if not cache.add(f"apikey:lastused:{principal.pk}", 1, LAST_USED_INTERVAL):
        return
    from apikeys.models import ApiKey

    ApiKey.objects.filter(pk=principal.pk).update(last_used_at=timezone.now(), last_used_ip=ip or None)


def reset_local_memo() -> None:
    """For tests: forget this process's last-write times."""
    _local_next_write.clear()
