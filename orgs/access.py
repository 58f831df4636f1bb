"""Who is calling, in which org, with which scopes: resolved once per request (SPEC §4).

``for_key`` / ``for_session`` turn the authenticated caller (API key principal or session user)
plus the org hints (``organizationId`` query parameter, ``X-Workspace-ID`` header,
``tenantId`` query parameter) into an ``Access`` that views and selectors use
(``orgs.permissions.ScopedPermission`` does it for every API view).

The key principal is whatever the key authentication put in ``request.auth``: this module
reads it through ``KeyPrincipalLike`` (orgs sits below apikeys and does not import it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard

from django.db.models import Q
from rest_framework.request import Request

from orgs import roles
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership
from tater.api.errors import ApiError, Forbidden, Unauthorized, ValidationFailed
from tater.api.params import ORG_HEADER, ORG_PARAM, TENANT_PARAM

__all__ = [
    "ORG_HEADER",
    "ORG_PARAM",
    "SESSION_ORG_KEY",
    "TENANT_PARAM",
    "Access",
    "KeyPrincipalLike",
    "OrgLike",
    "OrgRef",
    "ambiguous",
    "denied",
    "for_key",
    "for_session",
    "for_user",
    "register_session_bar",
    "session_bars",
    "is_key_principal",
    "org_hint",
    "tenant_hint",
    "token_tenant",
]

SESSION_ORG_KEY = "current_org_id"

# Tenants a browser session may not reach though its user belongs to them, each with the
# refusal to show: decided above this layer (accounts: a tenant that requires SSO of the user
# is reached only by a session signed in through that tenant's own identity provider).
SessionBar = Callable[[Any, Any], Mapping[int, str]]
_session_bars: list[SessionBar] = []


def register_session_bar(bar: SessionBar) -> None:
    """Called once by the app that decides it (``AccountsConfig.ready``)."""
    if bar not in _session_bars:
        _session_bars.append(bar)


def session_bars(request: Any, user: Any) -> dict[int, str]:
    """``{tenant pk: why}`` for the tenants this signed-in session of ``user`` may not reach."""
    barred: dict[int, str] = {}
    for bar in _session_bars:
        barred.update(bar(request, user))
    return barred


class SessionBarred(Forbidden):
    """The user belongs to the org's tenant, but this session may not reach it (it says why)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="WORKSPACE_ACCESS_DENIED")


class OrgLike(Protocol):
    """An org as a caller carries it: ``OrgRef`` here, or the key principal's own."""

    @property
    def pk(self) -> int: ...

    @property
    def public_id(self) -> str: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class OrgRef:
    pk: int
    public_id: str
    name: str


class KeyPrincipalLike(Protocol):
    """What org resolution reads of an authenticated API key (``apikeys``' principal)."""

    @property
    def pk(self) -> int: ...

    @property
    def public_id(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def owner_pk(self) -> int: ...

    @property
    def tenant_pk(self) -> int: ...

    @property
    def tenant_public_id(self) -> str: ...

    @property
    def org(self) -> OrgLike | None: ...

    @property
    def tenant_orgs(self) -> Sequence[OrgLike]: ...  # only filled for unbound keys

    @property
    def is_unbound(self) -> bool: ...

    @property
    def effective_scopes(self) -> frozenset[str]: ...

    @property
    def owner_tenant_role(self) -> str | None: ...

    @property
    def owner_org_role(self) -> str | None: ...


def token_tenant(request: Request) -> int | None:
    """The tenant an identity-provider token speaks for: the one whose provider issued it
    (``request.auth``, accounts' ``IdPIdentity``, carries it). SPEC §3 applies "the
    tenant's" policies to the token, and that provider is the tenant's to run: the token
    reaches nothing of its user's other tenants (SPEC §1). None for a browser session,
    which reaches every tenant of its user."""
    auth = getattr(request, "auth", None)
    if auth is None or is_key_principal(auth):
        return None
    tenant_pk = getattr(auth, "tenant_pk", None)
    return tenant_pk if isinstance(tenant_pk, int) else None


def is_key_principal(auth: object) -> TypeGuard[KeyPrincipalLike]:
    """Whether ``request.auth`` is an API key's principal: it has the key's effective
    scopes (a session's auth is None, an identity-provider token's an ``IdPIdentity``)."""
    return auth is not None and hasattr(auth, "effective_scopes")


@dataclass
class Access:
    user_id: int
    tenant_pk: int
    tenant_public_id: str
    org: OrgLike | None
    scopes: frozenset[str]
    tenant_role: str | None = None
    org_role: str | None = None
    key: KeyPrincipalLike | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def via_key(self) -> bool:
        return self.key is not None

    @property
    def is_tenant_owner(self) -> bool:
        return self.tenant_role == roles.TenantRole.OWNER

    def organization(self) -> Organization:
        """A model instance for the resolved org, for selectors (no query)."""
        if self.org is None:
            raise ApiError("This endpoint needs an organization", code="AMBIGUOUS_ORG")
        return Organization(pk=self.org.pk, public_id=self.org.public_id, name=self.org.name, tenant_id=self.tenant_pk)

    def tenant(self) -> Tenant:
        return Tenant(pk=self.tenant_pk, public_id=self.tenant_public_id)


def ambiguous(*, in_body: bool = False) -> ApiError:
    """``in_body``: the endpoint also takes the org in its body (the credential exchange)."""
    where = f"the {ORG_PARAM} query parameter (or the X-Workspace-ID header)"
    if in_body:
        where = f"{ORG_PARAM} in the body (or the {ORG_PARAM} query parameter, or the X-Workspace-ID header)"
    return ApiError(
        f"Several organizations are reachable: pass {where}",
        code="AMBIGUOUS_ORG",
        details={"parameter": ORG_PARAM},
    )


def no_org() -> Forbidden:
    """Nothing to resolve to: the caller reaches no organization (none exists in the
    tenant yet, or the user belongs to none), so no hint could help."""
    return Forbidden(
        "No organization is reachable: create one or ask to be added to one", code="WORKSPACE_ACCESS_DENIED"
    )


def denied(org_hint: str) -> Forbidden:
    return Forbidden(f"No access to organization {org_hint!r}", code="WORKSPACE_ACCESS_DENIED")


def _query_param(request: Request, name: str) -> str | None:
    """The hint parameter's value; sent twice with different values, a 400 (as two hints
    naming different orgs are): never the last one silently winning over the first."""
    # Most key calls carry no query string: skip building DRF's QueryDict for them.
    if not getattr(request, "_request", request).META.get("QUERY_STRING"):
        return None
    values = request.query_params.getlist(name)
    if len({value.strip() for value in values}) > 1:
        raise ValidationFailed(
            f"{name} is sent several times with different values: send it once",
            details={"fields": {name: ["Sent several times with different values"]}},
        )
    return values[0] if values else None


def org_hint(request: Request) -> str | None:
    """The org the caller names: ``organizationId`` or ``X-Workspace-ID``; both naming
    different orgs is a 400 (SPEC §4), never one silently winning over the other."""
    param = (_query_param(request, ORG_PARAM) or "").strip()
    header = (getattr(request, "_request", request).META.get(ORG_HEADER) or "").strip()
    if param and header and param != header:
        raise ValidationFailed(
            f"{ORG_PARAM} and X-Workspace-ID name different organizations: send one, or the same in both",
            details={"fields": {ORG_PARAM: ["Does not match the X-Workspace-ID header"]}},
        )
    return param or header or None


def _nameable(hint: str) -> bool:
    """Whether a hint could name anything: one holding a NUL names nothing (PostgreSQL refuses
    NUL in text, a 500; the JSON paths refuse it earlier, the pages answer 404)."""
    return "\x00" not in hint


def tenant_hint(request: Request) -> str | None:
    value = _query_param(request, TENANT_PARAM)
    return value.strip() if value and value.strip() else None


def for_key(request: Request, principal: KeyPrincipalLike, *, org_required: bool, unbound_allowed: bool) -> Access:
    meta = getattr(request, "_request", request).META
    if principal.org is not None and not meta.get("QUERY_STRING") and ORG_HEADER not in meta:
        # An org-bound key and no hints (most calls): its own org, nothing to check.
        return Access(
            principal.owner_pk,
            principal.tenant_pk,
            principal.tenant_public_id,
            principal.org,
            principal.effective_scopes,
            principal.owner_tenant_role,
            principal.owner_org_role,
            principal,
        )
    hint, tenant = org_hint(request), tenant_hint(request)
    if tenant is not None and tenant != principal.tenant_public_id:
        raise Forbidden(f"No access to tenant {tenant!r}", code="WORKSPACE_ACCESS_DENIED")
    org = principal.org
    if principal.is_unbound:
        if org_required and not unbound_allowed:
            raise Unauthorized("Unbound API key may not scope to a specific org")
        if hint is not None:
            org = next((o for o in principal.tenant_orgs if o.public_id == hint), None)
            if org is None:
                raise denied(hint)
        elif org_required:
            if not principal.tenant_orgs:
                raise no_org()
            if len(principal.tenant_orgs) != 1:
                raise ambiguous()
            org = principal.tenant_orgs[0]
    elif hint is not None and hint != principal.org.public_id:  # type: ignore[union-attr]
        raise denied(hint)
    return Access(
        user_id=principal.owner_pk,
        tenant_pk=principal.tenant_pk,
        tenant_public_id=principal.tenant_public_id,
        org=org,
        scopes=principal.effective_scopes,
        tenant_role=principal.owner_tenant_role,
        org_role=principal.owner_org_role if not principal.is_unbound else None,
        key=principal,
    )


def for_session(request: Request, *, org_required: bool) -> Access:
    session = getattr(request, "session", None)
    confined_to = token_tenant(request)
    return for_user(
        request.user,
        hint=org_hint(request),
        tenant_hint_value=tenant_hint(request),
        session_org=session.get(SESSION_ORG_KEY) if session is not None else None,
        org_required=org_required,
        confined_to=confined_to,
        # An identity-provider token is its own sign-in through its tenant's IdP (confined to it).
        barred=session_bars(request, request.user) if confined_to is None else None,
    )


def for_user(
    user: Any,
    *,
    hint: str | None,
    tenant_hint_value: str | None,
    session_org: str | None,
    org_required: bool,
    confined_to: int | None = None,
    barred: Mapping[int, str] | None = None,
) -> Access:
    """A signed-in user's access: the hinted org, else the session's current org, else
    their only org; several orgs and no choice is AMBIGUOUS_ORG when an org is required.
    ``confined_to``: the only tenant the credential reaches (an identity-provider token's).
    ``barred``: tenants this session may not reach (``session_bars``); a hint naming one of
    their orgs, or the tenant, gets its refusal (``SessionBarred``), never a bare "no access"."""
    wanted = hint or session_org
    memberships = TenantMembership.objects.filter(user=user).select_related("tenant")
    org_memberships = OrgMembership.objects.filter(user=user)
    if confined_to is not None:
        memberships = memberships.filter(tenant_id=confined_to)
        org_memberships = org_memberships.filter(organization__tenant_id=confined_to)
    if barred:
        _refuse_barred_hint(user, barred, hint=hint, tenant_hint_value=tenant_hint_value)
        memberships = memberships.exclude(tenant_id__in=barred)
        org_memberships = org_memberships.exclude(organization__tenant_id__in=barred)
    tenant_roles = {m.tenant_id: m.role for m in memberships}
    org_roles = dict(org_memberships.values_list("organization_id", "role"))
    reachable = Organization.objects.filter(Q(tenant_id__in=tenant_roles) | Q(pk__in=org_roles)).select_related(
        "tenant"
    )
    if tenant_hint_value is not None:
        reachable = (
            reachable.filter(tenant__public_id=tenant_hint_value) if _nameable(tenant_hint_value) else reachable.none()
        )
    org: Organization | None = None
    if wanted is not None:
        org = reachable.filter(public_id=wanted).first() if _nameable(wanted) else None
        if org is None and hint is not None:
            raise denied(hint)
    if org is None:
        candidates = list(reachable[:2])
        if len(candidates) == 1:
            org = candidates[0]
        elif org_required:
            if not candidates:
                raise no_org()
            raise ambiguous()
    if org is None:
        return _tenant_level(user, tenant_roles, org_roles, tenant_hint_value)
    tenant_role, org_role = tenant_roles.get(org.tenant_id), org_roles.get(org.pk)
    return Access(
        user_id=user.pk,
        tenant_pk=org.tenant_id,
        tenant_public_id=org.tenant.public_id,
        org=OrgRef(org.pk, org.public_id, org.name),
        scopes=roles.role_scopes(tenant_role, org_role),
        tenant_role=tenant_role,
        org_role=org_role,
    )


def _refuse_barred_hint(
    user: Any, barred: Mapping[int, str], *, hint: str | None, tenant_hint_value: str | None
) -> None:
    """A hint naming a barred tenant, or an org of it the user belongs to: that tenant's refusal."""
    if tenant_hint_value is not None and _nameable(tenant_hint_value):
        tenant_pk = (
            Tenant.objects.filter(public_id=tenant_hint_value, pk__in=barred).values_list("pk", flat=True).first()
        )
        if tenant_pk is not None:
            raise SessionBarred(barred[tenant_pk])
    if hint is not None and _nameable(hint):
        orgs = Organization.objects.filter(public_id=hint, tenant_id__in=barred)
        org_tenant = orgs.values_list("tenant_id", flat=True).first()
        if org_tenant is not None and (
            TenantMembership.objects.filter(user=user, tenant_id=org_tenant).exists()
            or OrgMembership.objects.filter(user=user, organization__public_id=hint).exists()
        ):
            raise SessionBarred(barred[org_tenant])


def _tenant_level(
    user: Any, tenant_roles: dict[int, str], org_roles: dict[int, str], tenant_hint_value: str | None
) -> Access:
    """A tenant-level call with no org chosen: the hinted tenant (else the user's first).
    Scopes are what the user may do somewhere in that tenant: the tenant role's, plus each
    org role's there; org-level checks still apply per object."""
    tenants = (
        Tenant.objects.filter(Q(pk__in=tenant_roles) | Q(organizations__pk__in=org_roles)).distinct().order_by("pk")
    )
    if tenant_hint_value is not None:
        tenants = tenants.filter(public_id=tenant_hint_value) if _nameable(tenant_hint_value) else tenants.none()
    tenant = tenants.first()
    if tenant is None:
        if tenant_hint_value is not None:
            raise Forbidden(f"No access to tenant {tenant_hint_value!r}", code="WORKSPACE_ACCESS_DENIED")
        raise Forbidden("You are not a member of any organization", code="WORKSPACE_ACCESS_DENIED")
    tenant_role = tenant_roles.get(tenant.pk)
    granted = roles.role_scopes(tenant_role, None)
    in_tenant = Organization.objects.filter(tenant=tenant, pk__in=org_roles).values_list("pk", flat=True)
    for org_pk in in_tenant:
        granted |= roles.role_scopes(None, org_roles[org_pk])
    return Access(
        user_id=user.pk,
        tenant_pk=tenant.pk,
        tenant_public_id=tenant.public_id,
        org=None,
        scopes=granted,
        tenant_role=tenant_role,
    )
