"""What the shell (templates/base.html) needs on every page: the org switcher, the user's
capabilities in the current org and links to the pages other apps provide."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse

from orgs import roles
from orgs.access import Access
from orgs.selectors import orgs_reachable_by_user

# Pages provided by other apps, by URL name; the first name that resolves wins, and a
# page that does not exist (yet) is simply left out of the navigation.
OPTIONAL_PAGES: dict[str, tuple[str, ...]] = {
    "activity": ("activity_log", "audit_log", "audit_activity", "activity"),
    "scans": ("scan_list", "scans_list", "scans"),
    "api_docs": ("api_reference", "api-docs"),
    "security": ("accounts_security", "account_security"),
    "sso_settings": ("accounts_sso_settings", "tenant_sso"),
    "two_factor": ("accounts_2fa_setup",),
    "logout": ("account_logout",),
    "login": ("account_login",),
    "signup": ("account_signup",),
}


SECTIONS = (
    ("/keys/", "keys"),
    ("/members/", "members"),
    ("/activity/", "activity"),
    ("/scans/", "scans"),
    ("/docs/", "docs"),
    ("/settings/org/", "org_settings"),
    ("/settings/tenant/outbox/", "outbox"),
    ("/settings/", "settings"),
    ("/orgs/new/", "org_create"),
    # Single sign-on is a tenant setting (its breadcrumb: Tenant › Settings › Single sign-on);
    # /accounts/sso/start/ is the SSO sign-in, not a setting.
    ("/accounts/sso/domains/", "settings"),
    ("/accounts/", "account"),
)
# Pages matched by their whole path, before the prefixes above.
EXACT_SECTIONS = {"/": "dashboard", "/accounts/sso/": "settings"}


def optional_url(page: str) -> str | None:
    for name in OPTIONAL_PAGES[page]:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


class Shell:
    """Computed lazily: a page that never shows the switcher costs no query."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @cached_property
    def access(self) -> Access | None:
        from orgs.ui import current_access

        cached = getattr(self.request, "current_access", None)
        if cached is not None:
            return cached
        try:
            return current_access(self.request, org_required=False)
        except (Http404, PermissionDenied):  # the page itself says why (the 403 of a barred org)
            return None

    @cached_property
    def orgs(self) -> list[Any]:
        from orgs.ui import session_barred

        return list(orgs_reachable_by_user(user=self.request.user, excluding_tenants=session_barred(self.request)))

    @cached_property
    def current_org(self) -> Any | None:
        if self.access is None or self.access.org is None:
            return None
        return next((o for o in self.orgs if o.public_id == self.access.org.public_id), None)

    @property
    def several_orgs(self) -> bool:
        """Only someone who can reach more than one org gets a switcher."""
        return len(self.orgs) > 1

    @cached_property
    def several_tenants(self) -> bool:
        return len({o.tenant_id for o in self.orgs}) > 1

    def _has(self, scope: str) -> bool:
        return self.access is not None and scope in self.access.scopes

    @property
    def org_query(self) -> str:
        """``organizationId=<the org this page shows>`` for the actions of its forms
        (``orgs.ui.org_query``). Empty without an org."""
        from orgs.ui import org_query

        return "" if self.access is None else org_query(self.access)

    @property
    def can_read_keys(self) -> bool:
        return self._has("keys:read")

    @property
    def can_read_members(self) -> bool:
        return self._has("members:read")

    @property
    def can_read_audit(self) -> bool:
        return self._has("audit:read")

    @property
    def can_read_scans(self) -> bool:
        return self._has("scans:read")

    @property
    def can_read_org(self) -> bool:
        return self._has("organizations:read") and self.access.org is not None  # type: ignore[union-attr]

    @property
    def is_tenant_owner(self) -> bool:
        return self.access is not None and self.access.tenant_role == roles.TenantRole.OWNER

    @cached_property
    def section(self) -> str:
        """Which navigation entry the current page belongs to (for aria-current)."""
        path = self.request.path
        if path in EXACT_SECTIONS:
            return EXACT_SECTIONS[path]
        for prefix, section in SECTIONS:
            if path.startswith(prefix):
                return section
        return ""

    @cached_property
    def links(self) -> dict[str, str | None]:
        return {page: optional_url(page) for page in OPTIONAL_PAGES}


def current_org(request: HttpRequest) -> dict[str, Any]:
    """``shell`` for signed-in users (None otherwise) and ``current_org`` for templates."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"shell": None, "current_org": None}
    shell = Shell(request)
    return {"shell": shell, "current_org": _LazyOrg(shell)}


class _LazyOrg:
    """``{{ current_org }}`` without resolving the org unless a template uses it."""

    def __init__(self, shell: Shell) -> None:
        self._shell = shell

    def __bool__(self) -> bool:
        return self._shell.current_org is not None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shell.current_org, name)

    def __str__(self) -> str:
        return str(self._shell.current_org or "")
