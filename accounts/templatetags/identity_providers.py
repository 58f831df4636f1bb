"""What a signed-in user is offered to link on the "Connected identity providers" page
(``{% linkable_providers as offer %}``): the global providers an operator set up (Google,
Microsoft: anyone may sign in with them) and the identity provider of the tenant that verified
the user's own email domain (``accounts.sso.link_offer``, as Account security offers it).

Never allauth's list of every configured provider: it holds each tenant's IdP, named after the
tenant, so it would show every signed-in user which companies run single sign-on here (SPEC §1:
nothing of one tenant is visible to a user of another)."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.adapter import get_adapter
from django import template

from accounts import sso

register = template.Library()

# The providers every account may link: the operator's global apps (tenant IdPs are
# openid_connect and saml apps, offered only to the people of their verified domains).
GLOBAL_PROVIDERS = ("google", "microsoft")


@register.simple_tag(takes_context=True)
def linkable_providers(context: Any) -> dict[str, Any]:
    request = context["request"]
    providers = [p for p in get_adapter().list_providers(request) if p.id in GLOBAL_PROVIDERS]
    own = sso.link_offer(request.user) if request.user.is_authenticated else None
    return {
        "global": providers,
        "tenant": own,
        "tenant_url": sso.login_url(own) if own is not None else "",
        "any": bool(providers or own),
    }
