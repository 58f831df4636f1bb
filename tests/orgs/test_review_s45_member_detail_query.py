"""Review s45 (B): a query parameter the member or org endpoint does not read (SPEC §2a, §5).

``DELETE /api/v1/organizations/{id}/members/{user_id}/?dry_run=true`` removed the member (and
revoked their keys) at once: the parameter was ignored, where the key, scan, audit and member
list endpoints answer such a parameter with a 400 naming it. A client that misspells a filter
or believes in a preview flag must learn it before anything changes. Now the member and org
detail endpoints refuse a parameter they do not read (the org hints and ``format`` aside), and
nothing changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from orgs.models import Organization, OrgMembership

pytestmark = pytest.mark.django_db


def _refused(r: Any, name: str) -> None:
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR"
    assert name in r.json()["details"]["fields"]


def test_a_removal_with_an_unknown_parameter_removes_nobody(api, world):
    org, viewer = world["org1"], world["viewer"]
    url = f"/api/v1/organizations/{org.public_id}/members/{viewer.public_id}/"
    r = api.delete(f"{url}?dry_run=true", HTTP_X_API_KEY=world["owner_raw"])
    _refused(r, "dry_run")
    assert OrgMembership.objects.filter(organization=org, user=viewer, role="viewer").exists()
    r = api.patch(f"{url}?notify=false", {"role": "member"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    _refused(r, "notify")
    assert OrgMembership.objects.get(organization=org, user=viewer).role == "viewer"
    _refused(api.get(f"{url}?fields=email", HTTP_X_API_KEY=world["owner_raw"]), "fields")
    # The org hint naming the path's org and format stay accepted.
    r = api.get(f"{url}?organizationId={org.public_id}&format=json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    r = api.delete(f"{url}?organizationId={org.public_id}", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 204, r.content


def test_an_org_rename_with_an_unknown_parameter_renames_nothing(api, world):
    org = world["org1"]
    url = f"/api/v1/organizations/{org.public_id}/"
    r = api.patch(f"{url}?dry_run=1", {"name": "Renamed"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    _refused(r, "dry_run")
    assert Organization.objects.get(pk=org.pk).name == org.name
    _refused(api.get(f"{url}?expand=tenant", HTTP_X_API_KEY=world["owner_raw"]), "expand")
    assert api.get(url, HTTP_X_API_KEY=world["owner_raw"]).status_code == 200
