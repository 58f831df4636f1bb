"""``tater.scim_tokens``: the tenant's SCIM tokens, which its identity provider (Entra ID,
Okta) uses to provision people at ``/scim/v2`` (SPEC §13: owner-managed, shown once)."""

from __future__ import annotations

from collections.abc import Iterator

from tater_client.models import parse
from tater_client.org_models import ScimToken, ScimTokenPage
from tater_client.orgs import _paged
from tater_client.params import ParamValue, Requester
from tater_client.resources import _segment


class ScimTokensAPI:
    """SCIM tokens (``/scim-tokens/``): the tenant owner's, through their unbound (tenant-wide)
    key with ``members:read`` (list) or ``members:write`` (revoke). Anyone else, and any
    organization's key, gets :class:`~tater_client.PermissionDenied`."""

    def __init__(self, client: Requester) -> None:
        self._client = client

    def list(self, *, limit: int | None = None, offset: int | None = None) -> ScimTokenPage:
        """One page of the tenant's tokens, newest first (``limit`` 1-200, default 50),
        revoked ones included (``status``); never a secret."""
        params: dict[str, ParamValue] = {"limit": limit, "offset": offset}
        return parse(ScimTokenPage.from_json, self._client.request("GET", "/scim-tokens/", params=params))

    def iter(self, *, page_size: int = 200) -> Iterator[ScimToken]:
        """Every token of the tenant, fetched page by page, each once."""
        return _paged(lambda offset: self.list(limit=page_size, offset=offset), lambda page: page.tokens)

    def revoke(self, token_id: str) -> ScimToken:
        """Revoke a token (``scimtoken-…``): the identity provider's next request with it is
        refused (401). Revoking one already revoked answers it unchanged; one of another
        tenant, or no such id, is a :class:`~tater_client.NotFound`."""
        path = f"/scim-tokens/{_segment(token_id)}/revoke/"
        return parse(ScimToken.from_json, self._client.request("POST", path))
