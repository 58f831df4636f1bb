"""``tater.organizations`` and ``tater.members``: organizations and who belongs to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal, Protocol, TypeVar

from tater_client.errors import TaterError
from tater_client.models import parse
from tater_client.org_models import (
    Invitation,
    Member,
    MemberAdded,
    MemberPage,
    Organization,
    OrganizationPage,
    ScimToken,
)
from tater_client.params import ParamValue, Requester
from tater_client.resources import UNSET, _segment, _Unset

OrgRole = Literal["admin", "member", "viewer"]
TenantRole = Literal["owner", "admin"]


def _in(org_id: str) -> dict[str, ParamValue]:
    """The org a path names is the request's org: sent as its hint too, so a client-wide
    ``organization_id`` naming another org does not make the call a 400 (hints that differ)."""
    return {"organizationId": str(org_id)}


class OrganizationsAPI:
    """Organizations (``/organizations/``): those the key reaches (an org-scoped key its own,
    an unbound key every org of its tenant)."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(self, *, limit: int | None = None, offset: int | None = None) -> OrganizationPage:
        """One page of the organizations the key reaches (``limit`` 1-200, default 50)."""
        params: dict[str, ParamValue] = {"limit": limit, "offset": offset}
        return parse(OrganizationPage.from_json, self._client.request("GET", "/organizations/", params=params))

    def iter(self, *, page_size: int = 200) -> Iterator[Organization]:
        """Every organization the key reaches, fetched page by page, each once."""
        return _paged(lambda offset: self.list(limit=page_size, offset=offset), lambda page: page.organizations)

    def get(self, org_id: str) -> Organization:
        path = f"/organizations/{_segment(org_id)}/"
        return parse(Organization.from_json, self._client.request("GET", path, params=_in(org_id)))

    def create(self, name: str) -> Organization:
        """A new organization in the key's tenant: tenant owners and admins, with an unbound
        key (an org-scoped key gets 403 ``PERMISSION_DENIED``). Not retried by default (a POST)."""
        return parse(Organization.from_json, self._client.request("POST", "/organizations/", json={"name": name}))

    def rename(self, org_id: str, name: str) -> Organization:
        """``PATCH /organizations/{id}/``: tenant owners and admins, and the org's admins."""
        path = f"/organizations/{_segment(org_id)}/"
        return parse(
            Organization.from_json, self._client.request("PATCH", path, params=_in(org_id), json={"name": name})
        )


class MembersAPI:
    """Members of an organization (``/organizations/{id}/members/``), by user id (``usr-…``).

    Standard keys only (member lists hold email addresses). Nobody grants a role above their
    own; the tenant's last owner can be neither demoted nor removed (409 ``CONFLICT``:
    :class:`~tater_client.Conflict`). Role changes reach the member's keys on their next request."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    @staticmethod
    def _path(org_id: str, user_id: str | None = None) -> str:
        path = f"/organizations/{_segment(org_id)}/members/"
        return path if user_id is None else f"{path}{_segment(user_id)}/"

    def list(self, org_id: str, *, limit: int | None = None, offset: int | None = None) -> MemberPage:
        """One page of the organization's members by email (``limit`` 1-200, default 50), its
        tenant's owners and admins included; with ``members:write`` also a page of the
        pending invitations (and those on hold)."""
        params = {**_in(org_id), "limit": limit, "offset": offset}
        return parse(MemberPage.from_json, self._client.request("GET", self._path(org_id), params=params))

    def iter(self, org_id: str, *, page_size: int = 200) -> Iterator[Member]:
        """Every member, fetched page by page as the iteration goes, each once.

        The list pages by ``offset`` only: someone joining meanwhile moves the later pages one
        place down, so the first member of the next page may be one already yielded: it is
        skipped (by id), not yielded twice."""
        return _paged(lambda offset: self.list(org_id, limit=page_size, offset=offset), lambda page: page.members)

    def iter_invitations(self, org_id: str, *, held: bool = False, page_size: int = 200) -> Iterator[Invitation]:
        """Every pending invitation (``held``: those on hold instead, whose sender or key cannot
        vouch for them for now), newest first, page by page, each once (``members:write``)."""

        def rows(page: MemberPage) -> list[Invitation]:
            return page.held_invitations if held else page.pending_invitations

        def total(page: MemberPage) -> int:
            return page.held_invitations_total if held else page.pending_invitations_total

        return _paged(lambda offset: self.list(org_id, limit=page_size, offset=offset), rows, total)

    def get(self, org_id: str, user_id: str) -> Member:
        return parse(Member.from_json, self._client.request("GET", self._path(org_id, user_id), params=_in(org_id)))

    def add(self, org_id: str, email: str, *, role: OrgRole | None = None) -> MemberAdded:
        """Add the user who has verified ``email``, or email an invitation (single use,
        expiring) to an address without one; ``role`` defaults to ``member``. The key must hold
        every scope of that role, else :class:`~tater_client.PermissionDenied` naming them in
        ``required_permissions``. Not retried by default (a POST: a second invitation)."""
        body = {"email": email} if role is None else {"email": email, "role": role}
        return parse(
            MemberAdded.from_json, self._client.request("POST", self._path(org_id), params=_in(org_id), json=body)
        )

    def update(
        self,
        org_id: str,
        user_id: str,
        *,
        role: OrgRole | _Unset = UNSET,
        tenant_role: TenantRole | None | _Unset = UNSET,
    ) -> Member:
        """``PATCH``: the org role and/or the tenant role (``tenant_role=None`` drops it;
        tenant owners and admins only). Give at least one."""
        body: dict[str, str | None] = {}
        if not isinstance(role, _Unset):
            body["role"] = role
        if not isinstance(tenant_role, _Unset):
            body["tenant_role"] = tenant_role
        path = self._path(org_id, user_id)
        return parse(Member.from_json, self._client.request("PATCH", path, params=_in(org_id), json=body))

    def remove(self, org_id: str, user_id: str) -> None:
        """``DELETE``: out of the organization (a tenant owner or admin also loses the tenant
        role); their keys stop working there on their next request."""
        self._client.request("DELETE", self._path(org_id, user_id), params=_in(org_id))

    @staticmethod
    def _invitation_path(org_id: str, invitation_id: str) -> str:
        return f"/organizations/{_segment(org_id)}/invitations/{_segment(invitation_id)}/"

    def resend_invitation(self, org_id: str, invitation_id: str) -> Invitation:
        """Email a pending, expired or held invitation (``inv-…``, from ``add`` or ``list``) again:
        a new link valid 72 hours, the old one stops working, and the caller vouches for it from
        now on (``invited_by``). Answers the invitation, never the link (it goes by email only).
        Through a key lacking any scope of the invitation's role: :class:`~tater_client.PermissionDenied`
        (its ``required_permissions`` name them), as for ``add``.
        Not retried by default (a POST: each send kills the link before it)."""
        path = f"{self._invitation_path(org_id, invitation_id)}resend/"
        return parse(Invitation.from_json, self._client.request("POST", path, params=_in(org_id)))

    def revoke_invitation(self, org_id: str, invitation_id: str) -> None:
        """``DELETE``: withdraw a pending, expired or held invitation; its link stops working.
        One already accepted or revoked, or of another org, is a :class:`~tater_client.NotFound`
        (so is a retry, by default, of a DELETE whose first answer was lost after it landed)."""
        self._client.request("DELETE", self._invitation_path(org_id, invitation_id), params=_in(org_id))


class _Page(Protocol):
    @property
    def total(self) -> int: ...

    @property
    def offset(self) -> int: ...


P = TypeVar("P", bound=_Page)
Row = TypeVar("Row", Organization, Member, Invitation, ScimToken)


def _paged(
    fetch: Callable[[int], P], rows_of: Callable[[P], list[Row]], total_of: Callable[[P], int] | None = None
) -> Iterator[Row]:
    """Every row of an offset-paged list, each once (by id): someone joining meanwhile moves
    the later pages one place down, so a page may start with a row already yielded.
    ``total_of``: the list's total on a page (default its ``total``)."""
    offset, seen = 0, set[str]()
    while True:
        page = fetch(offset)
        if page.offset != offset:  # a proxy dropping the query would list page 1 again
            raise TaterError(
                f"The server answered offset {page.offset} for offset {offset}: it ignores the paging",
                code="INVALID_RESPONSE",
            )
        rows = rows_of(page)
        for row in rows:
            ident = row.user_id if isinstance(row, Member) else row.id
            if ident not in seen:
                seen.add(ident)
                yield row
        offset += len(rows)
        if not rows or offset >= (page.total if total_of is None else total_of(page)):
            return
