"""SCIM in the admin: tokens without their secret or digest, a revoke action (audited in the
admin channel); the directories read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent
from scim.models import ScimToken
from tests.factories import operator_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(settings) -> Client:
    return operator_client(settings)


def test_tokens_are_listed_without_secrets_and_revoked_with_an_action(staff, acme):
    page = staff.get("/admin/scim/scimtoken/").content.decode()
    assert acme.token.display_prefix in page and acme.secret not in page and acme.token.digest not in page
    detail = staff.get(f"/admin/scim/scimtoken/{acme.token.pk}/change/").content.decode()
    assert acme.token.digest not in detail
    assert staff.get("/admin/scim/scimtoken/add/").status_code == 403
    r = staff.post("/admin/scim/scimtoken/", {"action": "revoke_tokens", "_selected_action": [acme.token.pk]})
    assert r.status_code == 302
    assert ScimToken.objects.get(pk=acme.token.pk).revoked_at is not None
    assert AuditEvent.objects.filter(action="scim_token.revoked", channel="admin").exists()
    assert acme.scim.get("/Users").status_code == 401


def test_directories_are_read_only(staff, acme):
    user = acme.scim.post("/Users", {"userName": "ada@acme.test"}).json()
    group = acme.scim.post("/Groups", {"displayName": "Eng"}).json()
    assert "ada@acme.test" in staff.get("/admin/scim/scimuser/").content.decode()
    assert "Eng" in staff.get("/admin/scim/scimgroup/").content.decode()
    assert staff.get("/admin/scim/scimuser/add/").status_code == 403
    assert staff.get("/admin/scim/scimgroup/add/").status_code == 403
    assert user["id"] and group["id"]
