"""Per-request context that services read without threading it through every call.

The middleware opens a context for each request; authentication fills in the actor.
Management commands and background work run with the ``system`` channel.
"""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass
class RequestContext:
    channel: str = "system"  # ui | api | admin | system
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ip: str | None = None
    # The nearest trusted hop when ``ip`` is unknown (tater.client_ip.resolve): whose
    # unidentified clients are counted together (tater.lockout.client_bucket).
    unknown_via: str | None = None
    user_agent: str = ""
    user_id: int | None = None
    api_key_id: int | None = None
    api_key_public_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Run when the request ends, whatever its outcome (RequestContextMiddleware): work that
    # holds something for the request's length only, e.g. tater.lockout's attempt slots.
    at_end: dict[str, Callable[[], None]] = field(default_factory=dict)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("tater_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        ctx = RequestContext()
        _current.set(ctx)
    return ctx


def finish(ctx: RequestContext) -> None:
    """Run (once) what the request asked to run when it ends (``RequestContext.at_end``)."""
    while ctx.at_end:
        _, callback = ctx.at_end.popitem()
        callback()


@contextlib.contextmanager
def use(ctx: RequestContext) -> Iterator[RequestContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


@contextlib.contextmanager
def override(**changes: Any) -> Iterator[RequestContext]:
    """Run a block with some context fields changed (e.g. ``channel="admin"``)."""
    with use(replace(current(), **changes)) as ctx:
        yield ctx
