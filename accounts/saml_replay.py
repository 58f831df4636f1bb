"""SAML assertion replay protection, on top of allauth's ``saml`` provider.

allauth binds a response to the session that started the sign-in (its ``InResponseTo``
must name an AuthnRequest stashed in that session, consumed on use). That stops most
replays, but not two concurrent posts of one response in the same session (both read the
stashed request before either deletes it), nor a replay if the stash ever outlives its use.
So every accepted assertion ID is also claimed once in the shared cache:

- key ``saml:assertion:<sha256(provider id, assertion id)>``, set with ``cache.add`` (atomic
  on Redis and locmem: exactly one request wins), TTL = the assertion's
  SubjectConfirmationData ``NotOnOrAfter`` + python3-saml's clock drift, so the entry
  outlives the window in which python3-saml would still accept the assertion;
- an assertion without that ``NotOnOrAfter`` (mandatory in the SAML Web SSO profile), or
  valid for longer than ``TATER_SAML_MAX_ASSERTION_VALIDITY`` seconds, is refused: the
  cache could not cover its whole lifetime;
- the claim runs only after python3-saml validated the signature, so an attacker cannot
  burn IDs with forged responses;
- a cache that cannot answer refuses the sign-in (fail closed, 503), never skips the check.

``guard(app)`` is called by ``accounts.adapter.SocialAccountAdapter.get_app`` for SAML apps:
allauth's ACS view gets its provider from the app, so this is the one place where the
validated ``OneLogin_Saml2_Auth`` (assertion ID, NotOnOrAfter, InResponseTo) is in reach.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from onelogin.saml2.constants import OneLogin_Saml2_Constants

from accounts.sso_refusals import sso_refused

KEY_PREFIX = "saml:assertion:"


def max_assertion_validity() -> int:
    """``TATER_SAML_MAX_ASSERTION_VALIDITY``: the longest time (seconds) ahead an assertion's
    NotOnOrAfter may lie; longer-lived assertions are refused (default one day; IdPs
    typically use 5 to 60 minutes)."""
    return int(getattr(settings, "TATER_SAML_MAX_ASSERTION_VALIDITY", 86_400))


class AssertionRefused(Exception):
    def __init__(self, reason: str, *, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def cache_key(provider_id: str, assertion_id: str) -> str:
    digest = hashlib.sha256(f"{provider_id}\x00{assertion_id}".encode()).hexdigest()
    return f"{KEY_PREFIX}{digest}"


def claim(
    *, provider_id: str, assertion_id: str | None, not_on_or_after: float | None, now: float | None = None
) -> None:
    """Record a validated assertion as used; ``AssertionRefused`` if it was seen before
    (or cannot be covered by the cache)."""
    now = time.time() if now is None else now
    if not assertion_id:
        raise AssertionRefused("The identity provider's assertion has no ID.")
    if not_on_or_after is None:
        raise AssertionRefused(
            "The identity provider's assertion has no expiry (SubjectConfirmationData NotOnOrAfter)."
        )
    remaining = not_on_or_after - now
    if remaining > max_assertion_validity():
        raise AssertionRefused("The identity provider's assertion is valid for too long.")
    ttl = max(1, int(remaining) + OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT + 1)
    key = cache_key(provider_id, assertion_id)
    if cache.add(key, int(now), timeout=ttl):
        return
    if cache.get(key) is None:
        # add() said no but nothing is stored: the cache is down (the fail-soft client
        # swallows the error). Refuse rather than accept an unchecked assertion.
        raise AssertionRefused("Single sign-on is temporarily unavailable, please try again.", status=503)
    raise AssertionRefused("This sign-in response was already used.")


class ReplayGuardedSAMLProvider(SAMLProvider):
    """allauth's SAML provider, refusing unsolicited and replayed assertions. allauth calls
    ``sociallogin_from_response`` only with a response python3-saml has validated."""

    def sociallogin_from_response(self, request: HttpRequest, response: Any) -> Any:
        try:
            if not response.get_last_response_in_response_to():
                raise AssertionRefused(
                    "Sign-ins started at the identity provider (unsolicited responses) are not accepted."
                )
            claim(
                provider_id=self.sub_id,
                assertion_id=response.get_last_assertion_id(),
                not_on_or_after=response.get_last_assertion_not_on_or_after(),
            )
        except AssertionRefused as refused:
            raise ImmediateHttpResponse(
                sso_refused(request, provider_id=self.sub_id, reason=refused.reason, status=refused.status)
            ) from refused
        return super().sociallogin_from_response(request, response)


def guard(app: SocialApp) -> SocialApp:
    """Make ``app.get_provider()`` (used by allauth's SAML views) return the guarded provider."""
    if app.provider == SAMLProvider.id:
        app.get_provider = lambda request: ReplayGuardedSAMLProvider(request=request, app=app)
    return app
