"""Every organizations/members/scans endpoint × every credential returns its documented status.

The table is checked against the URL conf: an endpoint (or method) added without a row
fails ``test_matrix_covers_every_route``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, get_resolver

from orgs.models import Invitation, Organization, OrgMembership
from scans.models import Scan
from tests.orgs.api_world import CREDENTIALS, SCAN_BODY, creds  # noqa: F401

# Columns: owner, admin, member, viewer sessions; org-scoped, unbound, unbound+organizationId,
# read-only, agent, public keys.
EXPECTED: dict[tuple[str, str], tuple[int, ...]] = {
    ("api-organizations", "GET"): (200, 200, 200, 200, 200, 200, 200, 200, 403, 200),
    ("api-organizations", "POST"): (201, 403, 403, 403, 403, 201, 201, 403, 403, 403),
    ("api-organization-detail", "GET"): (200, 200, 200, 200, 200, 200, 200, 200, 403, 200),
    ("api-organization-detail", "PATCH"): (200, 200, 403, 403, 200, 200, 200, 403, 403, 403),
    ("api-members", "GET"): (200, 200, 200, 200, 200, 200, 200, 200, 403, 403),
    ("api-members", "POST"): (201, 201, 403, 403, 201, 201, 201, 403, 403, 403),
    ("api-member-detail", "GET"): (200, 200, 200, 200, 200, 200, 200, 200, 403, 403),
    ("api-member-detail", "PATCH"): (200, 200, 403, 403, 200, 200, 200, 403, 403, 403),
    ("api-member-detail", "DELETE"): (204, 204, 403, 403, 204, 204, 204, 403, 403, 403),
    ("api-invitation-resend", "POST"): (200, 200, 403, 403, 200, 200, 200, 403, 403, 403),
    ("api-invitation-detail", "DELETE"): (204, 204, 403, 403, 204, 204, 204, 403, 403, 403),
    ("api-scans-upload", "POST"): (201, 201, 201, 403, 201, 401, 401, 403, 201, 403),
    ("api-scans-upload-alias", "POST"): (201, 201, 201, 403, 201, 401, 401, 403, 201, 403),
    ("api-scans", "GET"): (200, 200, 200, 200, 200, 400, 200, 200, 403, 200),
    ("api-scan-detail", "GET"): (200, 200, 200, 200, 200, 400, 200, 200, 403, 200),
}

# The catalog code each non-2xx status must carry, per credential kind.
ERROR_CODES = {401: {"UNAUTHORIZED"}, 400: {"AMBIGUOUS_ORG"}, 403: {"PERMISSION_DENIED", "KEY_TYPE_NOT_ALLOWED"}}


def _routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for module in ("orgs.api.urls", "scans.api.urls", "scans.api.alias_urls"):
        for pattern in get_resolver(module).url_patterns:
            assert isinstance(pattern, URLPattern)
            view = pattern.callback.view_class
            for method in ("get", "post", "patch", "put", "delete"):
                if hasattr(view, method):
                    found.add((pattern.name, method.upper()))
    return found


def test_matrix_covers_every_route() -> None:
    assert set(EXPECTED) == _routes()


def _request(world: dict[str, Any], route: str, method: str) -> tuple[str, Any]:
    org1, target, scan = world["org1"], world["target"], world["scan"]
    invitation = world["invitation"]
    paths = {
        "api-organizations": "/api/v1/organizations/",
        "api-organization-detail": f"/api/v1/organizations/{org1.public_id}/",
        "api-members": f"/api/v1/organizations/{org1.public_id}/members/",
        "api-member-detail": f"/api/v1/organizations/{org1.public_id}/members/{target.public_id}/",
        "api-invitation-resend": f"/api/v1/organizations/{org1.public_id}/invitations/{invitation.public_id}/resend/",
        "api-invitation-detail": f"/api/v1/organizations/{org1.public_id}/invitations/{invitation.public_id}/",
        "api-scans-upload": "/api/v1/scans/upload",
        "api-scans-upload-alias": "/api/scans/upload",
        "api-scans": "/api/v1/scans/",
        "api-scan-detail": f"/api/v1/scans/{scan.public_id}/",
    }
    bodies = {
        ("api-organizations", "POST"): {"name": "New org"},
        ("api-organization-detail", "PATCH"): {"name": "Renamed"},
        ("api-members", "POST"): {"email": "newcomer@example.com", "role": "viewer"},
        ("api-member-detail", "PATCH"): {"role": "member"},
        ("api-scans-upload", "POST"): SCAN_BODY,
        ("api-scans-upload-alias", "POST"): SCAN_BODY,
    }
    return paths[route], bodies.get((route, method))


@pytest.mark.django_db
@pytest.mark.parametrize("route,method", sorted(EXPECTED))
@pytest.mark.parametrize("credential", CREDENTIALS)
def test_status(creds: dict[str, Any], route: str, method: str, credential: str) -> None:  # noqa: F811
    expected = EXPECTED[(route, method)][CREDENTIALS.index(credential)]
    path, body = _request(creds, route, method)
    response = creds["callers"][credential].call(method, path, body)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["error"] in ERROR_CODES[expected]
        return
    # A success really happened (or not) in the database.
    org1, target = creds["org1"], creds["target"]
    if (route, method) == ("api-organizations", "POST"):
        assert Organization.objects.filter(tenant=creds["tenant"], name="New org").exists()
    elif (route, method) == ("api-organization-detail", "PATCH"):
        assert Organization.objects.get(pk=org1.pk).name == "Renamed"
    elif (route, method) == ("api-member-detail", "PATCH"):
        assert OrgMembership.objects.get(organization=org1, user=target).role == "member"
    elif (route, method) == ("api-member-detail", "DELETE"):
        assert not OrgMembership.objects.filter(organization=org1, user=target).exists()
    elif (route, method) == ("api-invitation-detail", "DELETE"):
        assert Invitation.objects.get(pk=creds["invitation"].pk).revoked_at is not None
    elif (route, method) == ("api-invitation-resend", "POST"):
        assert Invitation.objects.get(pk=creds["invitation"].pk).token_digest != creds["invitation"].token_digest
    elif method == "POST" and route.startswith("api-scans-upload"):
        scan = Scan.objects.get(public_id=response.json()["id"])
        assert scan.organization_id == org1.pk
    elif (route, method) == ("api-organizations", "GET"):
        ids = {o["id"] for o in response.json()["organizations"]}
        assert org1.public_id in ids and creds["other_org"].public_id not in ids
