from __future__ import annotations

from typing import Any

from rest_framework import authentication
from rest_framework.request import Request


class SessionAuthentication(authentication.SessionAuthentication):
    """Browser sessions (cookie + CSRF) authenticate API calls too (SPEC §3)."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None:
            from tater import context

            user = result[0]
            ctx = context.current()
            ctx.user_id = user.pk
            ctx.extra["user_email"] = user.email
        return result
