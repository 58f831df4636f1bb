"""Requests per SCIM token (``TATER_SCIM_RATE_LIMITS``): an IdP's full sync fits, a runaway
loop does not. Counted once the token is known, on the limiter API keys use."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apikeys.throttling import count_request
from scim.app_settings import app_settings
from scim.models import ScimToken
from scim.protocol.errors import ScimError
from tater.limiter import Entity


class ScimTokenThrottle(BaseThrottle):
    """429 in SCIM's error format with ``Retry-After`` past the token's limits; the decision
    goes on ``request.rate_limit`` (its ``X-RateLimit-*`` headers: the API response hooks)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ScimToken):
            return True  # HasScimToken has refused it already
        decision = count_request(request, Entity(f"scim:{token.public_id}", app_settings.RATE_RULES))
        if not decision.admitted:
            retry = decision.headers()["Retry-After"]
            raise ScimError(429, f"Too many requests: retry in {retry} seconds", headers={"Retry-After": retry})
        return True
