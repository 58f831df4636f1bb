"""A refused tenant SSO sign-in: audited under the tenant (``user.login_failed``, method
sso) and answered with the refusal page. Shared by the allauth adapter (accounts.adapter)
and the replay-guarded SAML provider (accounts.saml_replay), which the adapter imports."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import render

from accounts import sso
from audit import registry as A
from audit.services import audit_record


def refusal_page(request: HttpRequest, reason: str, status: int = 403, *, link_hint: bool = False) -> Any:
    return render(request, "accounts/sso_refused.html", {"reason": reason, "link_hint": link_hint}, status=status)


def audit_sso_failure(config: Any, *, email: str, reason: str) -> None:
    audit_record(
        action=A.USER_LOGIN_FAILED,
        tenant=config.tenant,
        target=None,
        changes={"email": email, "method": "sso", "provider": config.provider_id, "reason": reason},
        actor_user=None,
        actor_email=email or None,
    )


def sso_refused(
    request: HttpRequest,
    *,
    provider_id: str,
    reason: str,
    email: str = "",
    status: int = 403,
    link_hint: bool = False,
) -> Any:
    """Audit a refused tenant SSO sign-in and render the refusal page."""
    config = sso.config_for_provider(provider_id)
    if config is not None:
        audit_sso_failure(config, email=email, reason=reason)
    return refusal_page(request, reason, status=status, link_hint=link_hint)
