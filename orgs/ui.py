"""Org resolution for Django-rendered pages: the same rules as the API (orgs.access),
reading the org switcher's choice from the session; and the query a paged list's links keep,
the org hint among it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Page
from django.http import Http404, HttpRequest, QueryDict
from django.urls import reverse
from django.utils.http import urlencode

from orgs import access as access_mod
from orgs.access import Access
from orgs.selectors import orgs_reachable_by_user
from tater.api.errors import ApiError


def session_barred(request: HttpRequest) -> dict[int, str]:
    """The tenants this session may not reach (``orgs.access.session_bars``), once per request."""
    barred = getattr(request, "session_barred", None)
    if barred is None:
        barred = access_mod.session_bars(request, request.user)
        setattr(request, "session_barred", barred)  # noqa: B010 - once per request
    return barred


def _session_org(request: HttpRequest, barred: dict[int, str]) -> str | None:
    """The session's current org if the user can still reach it, else their first
    reachable org (pages never answer "ambiguous": they open on a sensible default)."""
    chosen = request.session.get(access_mod.SESSION_ORG_KEY)
    reachable = dict(
        orgs_reachable_by_user(user=request.user, excluding_tenants=barred).values_list("public_id", "name")
    )
    if chosen in reachable:
        return chosen
    if chosen or not reachable:  # say why orgs of the user's are out of this session's reach
        for why in barred.values():
            messages.warning(request, why, fail_silently=True)
    if not reachable:
        return None
    first = next(iter(reachable))
    if chosen and not barred:
        # The selected org was left, removed or deleted: say so rather than silently showing
        # another org's pages. The lost org is not named (it may be gone or renamed).
        messages.info(
            request,
            f"The organization you had selected is no longer available to you: showing {reachable[first]}.",
            fail_silently=True,
        )
    # Remember the default so API calls made from the page (session auth) agree with it.
    request.session[access_mod.SESSION_ORG_KEY] = first
    return first


def current_access(request: HttpRequest, *, org_required: bool = True) -> Access:
    """The signed-in user's Access in the current org; 404 when the user cannot reach one.

    The org comes from ``?organizationId=``, else ``session["current_org_id"]`` (set by the
    org switcher), else the user's first reachable org.
    """
    cached = getattr(request, "current_access", None)
    if cached is not None and (cached.org is not None or not org_required):
        return cached
    hints = {value.strip() for value in request.GET.getlist(access_mod.ORG_PARAM)} - {""}
    if len(hints) > 1:  # as the API refuses them (SPEC §4): never the last one winning
        raise BadRequest(f"{access_mod.ORG_PARAM} is sent several times with different values")
    hint = hints.pop() if hints else None
    barred = session_barred(request)
    try:
        access = access_mod.for_user(
            request.user,
            hint=hint,
            tenant_hint_value=None,
            session_org=None if hint else _session_org(request, barred),
            org_required=org_required,
            barred=barred,
        )
    except access_mod.SessionBarred as exc:
        raise PermissionDenied(exc.message) from None
    except ApiError as exc:
        raise Http404(exc.message) from None
    request.current_access = access  # type: ignore[attr-defined]
    return access


def require_scope(access: Access, scope: str) -> None:
    """Pages a role may not use answer 403 (the 403 page), like the API's PERMISSION_DENIED."""
    if scope not in access.scopes:
        raise PermissionDenied(f"This page needs the {scope} permission")


def require_tenant_role(access: Access, *allowed: str) -> None:
    if access.tenant_role not in allowed:
        raise PermissionDenied("This page is for tenant administrators")


def org_query(access: Access) -> str:
    """``organizationId=<the org of access>`` for the actions of forms that act on the org a
    page shows or its tenant: posted later, they must not act in whatever org the session holds
    by then (another tab may have switched; SPEC §4). Empty without an org."""
    if access.org is None:
        return ""
    return urlencode({access_mod.ORG_PARAM: access.org.public_id})


def org_hint(request: HttpRequest) -> str:
    """``organizationId=<id>`` when the page shows an org other than the session's current one
    (it was opened with the hint: an answer of ``url_in_org``, a bookmark), else empty. Links and
    redirects of such a page carry it, so following them stays in the org the page showed."""
    access = getattr(request, "current_access", None)
    if access is None or access.org is None:
        return ""
    if request.session.get(access_mod.SESSION_ORG_KEY) == access.org.public_id:
        return ""
    return org_query(access)


def with_org_hint(request: HttpRequest, url: str) -> str:
    """``url`` with the page's ``org_hint`` added to its query (before any ``#fragment``)."""
    hint = org_hint(request)
    path, hash_mark, fragment = url.partition("#")
    if not hint or f"{access_mod.ORG_PARAM}=" in path:
        return url
    return f"{path}{'&' if '?' in path else '?'}{hint}{hash_mark}{fragment}"


def url_in_org(request: HttpRequest, access: Access, name: str, *args: object) -> str:
    """The page ``name`` of the org just acted in, naming it when it is not the session's: the
    answer to a form shows the org the form acted in."""
    url = reverse(name, args=args)
    if access.org is not None and request.session.get(access_mod.SESSION_ORG_KEY) != access.org.public_id:
        return f"{url}?{org_query(access)}"
    return url


def kept_query(request: HttpRequest, names: Iterable[str], **changes: object) -> QueryDict:
    """The page's query cut to the parameters ``names`` a list keeps (its search, its pages, the
    org hint; empty ones dropped), with ``changes`` set: what its links and forms carry on."""
    query = QueryDict(mutable=True)
    for name in names:
        if request.GET.get(name):
            query[name] = request.GET[name]
    for name, value in changes.items():
        query[name] = str(value)
    return query


def page_links(page: Page[Any], url_for: Callable[[int], str]) -> dict[str, str]:
    """``previous``/``next`` of a paged list, where there is one: ``url_for(page number)``."""
    return {
        name: url_for(number)
        for name, present, number in (
            ("previous", page.has_previous(), page.number - 1),
            ("next", page.has_next(), page.number + 1),
        )
        if present
    }
