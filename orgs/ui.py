"""Org resolution for Django-rendered pages: the same rules as the API (tater.api.access),
reading the org switcher's choice from the session."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from tater.api import access as access_mod
from tater.api.access import Access
from tater.api.errors import ApiError


def current_access(request: HttpRequest, *, org_required: bool = True) -> Access:
    """The signed-in user's Access in the current org; 404 when the user cannot reach one.

    The org comes from ``?organizationId=``, else ``session["current_org_id"]`` (set by the
    org switcher), else the user's only org.
    """
    hint = request.GET.get(access_mod.ORG_PARAM) or None
    try:
        access = access_mod.for_user(
            request.user,
            hint=hint,
            tenant_hint_value=None,
            session_org=request.session.get(access_mod.SESSION_ORG_KEY),
            org_required=org_required,
        )
    except ApiError as exc:
        raise Http404(exc.message) from None
    request.current_access = access  # type: ignore[attr-defined]
    return access
