"""When and how long the client waits before sending a request again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

from tater_client.errors import RateLimitInfo, parse_retry_after

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ALL_METHODS = IDEMPOTENT_METHODS | {"POST", "PATCH"}


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of refused or failed requests.

    Retried: 429 ``RATE_LIMITED`` (after the server's ``Retry-After``, else until
    ``X-RateLimit-Reset`` when ``X-RateLimit-Remaining`` is 0), 503 (after ``Retry-After``,
    else an exponential backoff), and connection failures or timeouts (backoff). Other
    429s (``LOCKED_OUT``, ``USAGE_EXHAUSTED``) are not: waiting does not help within a call.

    Only the ``methods`` listed are retried: by default the idempotent ones, so a create,
    upload or rotation is never sent twice. Pass ``methods=ALL_METHODS`` to retry them too,
    after a rate limit's 429 (answered before the server acts) or a connection that was
    never made; never after a 503, a timeout or a dropped connection, where the server may
    have acted (a second create would mint a second key).

    A wait the remaining ``max_total_wait`` budget cannot cover is not started: the error is
    raised at once, so a call never sleeps only to fail.
    """

    max_attempts: int = 3
    """Attempts in all, the first included (1 turns retries off)."""
    max_total_wait: float = 30.0
    """Seconds one call may spend sleeping between attempts."""
    backoff: float = 0.5
    """First backoff in seconds when the server names no wait; doubles per attempt."""
    max_backoff: float = 8.0
    methods: frozenset[str] = field(default=IDEMPOTENT_METHODS)

    @classmethod
    def disabled(cls) -> RetryPolicy:
        return cls(max_attempts=1)

    def allows(self, method: str) -> bool:
        return self.max_attempts > 1 and method.upper() in self.methods

    def backoff_for(self, attempt: int) -> float:
        """Backoff after the ``attempt``-th failure (1-based), with up to 10 % jitter."""
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base * (1 + random.random() / 10)  # noqa: S311 - jitter, not a secret


def retryable_status(response: httpx.Response, code: str) -> bool:
    """A 503, or a rate limit's 429: never ``USAGE_EXHAUSTED`` (final until a refill weeks
    away, or for good) nor ``LOCKED_OUT``, whatever their ``Retry-After`` says."""
    if response.status_code == 503:
        return True
    return response.status_code == 429 and code == "RATE_LIMITED"


def server_wait(response: httpx.Response) -> float | None:
    """The wait the server asks for: ``Retry-After``, else the rate-limit window's reset
    when its quota is spent; ``None`` when it names none."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if retry_after is not None:
        return retry_after
    info = RateLimitInfo.from_headers(response.headers)
    if info is not None and info.remaining == 0:
        return info.seconds_until_reset()
    return None
