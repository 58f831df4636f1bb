"""Where else a session reaches a tenant's data, the bar of a tenant that requires SSO holds
(checked by review F, no change needed): the scan upload (and its /api/scans/upload alias),
the audit log's CSV export, SCIM tokens, the Activity Log, scans, settings, SCIM, outbox and
members pages, org creation, and the seed systems' paths, which take no session at all
(SPEC §8 "requires SSO", §1, §5a; tests/accounts/test_review_s39_sso_other_tenant_idp.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from orgs import services as org_services
from scans.models import Scan
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_review_s39_sso_other_tenant_idp import _signed_in, acme_idp, globex_idp, world
from tests.orgs.api_world import SCAN_BODY

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "globex_idp", "world"]  # fixtures

UPLOAD = SCAN_BODY


@pytest.fixture
def acme_session(world: dict[str, Any], acme_idp: OIDCProvider) -> Client:
    org_services.tenant_member_set(tenant=world["globex"], user=world["bob"], role="owner")
    client = Client()
    _signed_in(client, acme_idp, "bob@acme.test")
    return client


def _refused(answer: Any) -> None:
    assert answer.status_code == 403, answer.content[:300]
    assert "single sign-on" in answer.content.decode()


def test_api_paths_refuse_globex(world: dict[str, Any], acme_session: Client) -> None:
    org, tenant = world["globex_org"].public_id, world["globex"].public_id
    for path, params in [
        ("/api/v1/audit-log/", {"organizationId": org, "format": "csv"}),
        ("/api/v1/scim-tokens/", {"tenantId": tenant}),
        ("/api/v1/scans/", {"organizationId": org}),
    ]:
        answer = acme_session.get(path, params)
        _refused(answer)
        assert answer.json()["error"] == "WORKSPACE_ACCESS_DENIED"
    for path in (f"/api/v1/scans/upload?organizationId={org}", f"/api/scans/upload?tenantId={tenant}"):
        _refused(acme_session.post(path, UPLOAD, content_type="application/json"))
    assert not Scan.objects.exists()


@pytest.mark.parametrize(
    "page",
    [
        "/activity/",
        "/activity/export.csv",
        "/scans/",
        "/settings/tenant/",
        "/settings/org/",
        "/settings/tenant/scim/",
        "/settings/tenant/outbox/",
        "/members/",
        "/orgs/new/",
        "/",
    ],
)
def test_pages_naming_globex_are_the_403_page(world: dict[str, Any], acme_session: Client, page: str) -> None:
    _refused(acme_session.get(page, {"organizationId": world["globex_org"].public_id}))


def test_seed_system_paths_take_no_session(acme_session: Client) -> None:
    for path in ("/v1/workspaces", "/v1/auth/keys", "/v1/auth/validate"):
        assert acme_session.get(path).status_code == 401


def test_a_globex_session_uploads_to_globex(world: dict[str, Any], globex_idp: OIDCProvider) -> None:
    client = Client()
    _signed_in(client, globex_idp, "bob@globex.test")
    org = world["globex_org"].public_id
    done = client.post(f"/api/v1/scans/upload?organizationId={org}", UPLOAD, content_type="application/json")
    assert done.status_code == 201, done.content
    assert client.get("/activity/export.csv", {"organizationId": org}).status_code == 200
