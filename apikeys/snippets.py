"""What the show-once page's ready-to-paste examples call: an upload for an org-bound key
that may upload scans, otherwise a listing the key may read (scans first), so a pasted example
answers 200 instead of a 403 for a permission the key does not have."""

from __future__ import annotations

from apikeys.models import ApiKey, KeyType
from tater import scopes as S

# (scope, path under /api/v1/, what it lists), in order of preference; {org} is the org's
# public id. Public keys read business data only (SPEC §2a): organizations and scans.
LISTINGS = (
    ("scans:read", "scans/", "scans"),
    ("keys:read", "keys/", "your API keys"),
    ("organizations:read", "organizations/", "organizations"),
    ("members:read", "organizations/{org}/members/", "the organization’s members"),
    ("audit:read", "audit-log/", "the Activity Log"),
)
PUBLIC_READS = frozenset({"scans:read", "organizations:read"})


def can_upload(api_key: ApiKey) -> bool:
    """Upload is a write endpoint: it admits org-bound standard and agent keys only (an
    unbound key gets 401 there, SPEC §4), whatever the key's scopes."""
    return "scans:write" in S.expand(api_key.scopes) and api_key.type != KeyType.PUBLIC and not api_key.is_unbound


def example_listing(api_key: ApiKey, org_id: str) -> tuple[str, str]:
    """The path (from /api/v1/) and a label of the first listing the key's scopes read."""
    scopes = S.expand(api_key.scopes)
    for scope, path, label in LISTINGS:
        public_refused = api_key.type == KeyType.PUBLIC and scope not in PUBLIC_READS
        if scope in scopes and not public_refused:
            return "/api/v1/" + path.format(org=org_id), label
    _, path, label = LISTINGS[0]
    return "/api/v1/" + path, label
