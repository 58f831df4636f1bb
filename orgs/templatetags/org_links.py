"""Links that stay in the org a page shows: ``{% org_url 'apikey_list' status='active' %}``,
``{% in_org some_url %}`` and ``{% org_hidden_input %}`` (for GET filter forms, whose submission
replaces the query string). They add ``?organizationId=`` only when the page shows an org other
than the session's current one (orgs.ui.org_hint), so ordinary links stay plain."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from orgs.access import ORG_PARAM
from orgs.ui import org_hint, with_org_hint

register = template.Library()


@register.simple_tag(takes_context=True)
def org_url(context: dict[str, Any], name: str, *args: object, **query: str | int) -> str:
    url = reverse(name, args=args)
    if query:
        url = f"{url}?{urlencode(query)}"
    return _hinted(context, url)


@register.simple_tag(takes_context=True)
def in_org(context: dict[str, Any], url: str) -> str:
    return _hinted(context, url)


def _hinted(context: Any, url: str) -> str:
    # Some error pages render without a request (Django's 400 view): plain links there.
    request = context.get("request")
    return url if request is None else with_org_hint(request, url)


@register.simple_tag(takes_context=True)
def org_hidden_input(context: dict[str, Any]) -> SafeString | str:
    request = context.get("request")
    access = getattr(request, "current_access", None)
    if request is None or access is None or access.org is None or not org_hint(request):
        return ""
    return format_html('<input type="hidden" name="{}" value="{}">', ORG_PARAM, access.org.public_id)
