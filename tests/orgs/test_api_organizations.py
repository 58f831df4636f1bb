"""Organizations over the API: what each caller sees, creation, renaming, other tenants."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from orgs import services
from tests.factories import add_member, make_key
from tests.orgs.api_world import creds  # noqa: F401

LIST = "/api/v1/organizations/"


def ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {o["id"] for o in response.json()["organizations"]}


@pytest.mark.django_db
class TestList:
    def test_each_caller_sees_what_it_may_reach(self, creds):  # noqa: F811
        org1, org2 = creds["org1"].public_id, creds["org2"].public_id
        c = creds["callers"]
        assert ids(c["org_key"].call("GET", LIST)) == {org1}
        assert ids(c["unbound_key"].call("GET", LIST)) == {org1, org2}
        assert ids(c["public_key"].call("GET", LIST)) == {org1}
        assert ids(c["owner_session"].call("GET", LIST)) == {org1, org2}
        assert ids(c["member_session"].call("GET", LIST)) == {org1}

    def test_session_of_a_user_in_two_tenants(self, api, world):
        user = world["member"]
        add_member(world["other_org"], "viewer", user=user)
        add_member(world["org2"], "viewer", user=user)
        api.force_login(user)
        assert ids(api.get(LIST)) == {world["org1"].public_id, world["org2"].public_id, world["other_org"].public_id}
        assert ids(api.get(LIST, {"tenantId": world["other_tenant"].public_id})) == {world["other_org"].public_id}

    def test_output_shape(self, api, world):
        r = api.get(LIST, HTTP_X_API_KEY=world["owner_raw"])
        org = r.json()["organizations"][0]
        assert org == {
            "id": world["org1"].public_id,
            "name": "Acme Org 1",
            "slug": "acme-org-1",
            "tenant_id": world["tenant"].public_id,
            "tenant_name": "Acme",
            "created_at": org["created_at"],
        }
        assert r.json()["total"] == 1


@pytest.mark.django_db
class TestDetail:
    def test_other_tenants_org_is_404(self, api, world):
        other = world["other_org"].public_id
        for path in (
            f"{LIST}{other}/",
            f"{LIST}{other}/members/",
            f"{LIST}{other}/members/{world['other_owner'].public_id}/",
        ):
            r = api.get(path, HTTP_X_API_KEY=world["owner_raw"])
            assert (r.status_code, r.json()["error"]) == (404, "NOT_FOUND"), path
            api.force_login(world["owner"])
            assert api.get(path).status_code == 404
            api.logout()
            if not path.endswith("/members/"):
                r = api.patch(
                    path, {"name": "pwned", "role": "viewer"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
                )
                assert r.status_code == 404
        world["other_org"].refresh_from_db()
        assert world["other_org"].name == "Globex Org 1"

    def test_org_scoped_key_cannot_reach_a_sibling_org(self, api, world):
        r = api.get(f"{LIST}{world['org2'].public_id}/", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 404

    def test_unknown_and_mismatched_ids(self, api, world):
        assert api.get(f"{LIST}org-nope/", HTTP_X_API_KEY=world["owner_raw"]).status_code == 404
        r = api.get(
            f"{LIST}{world['org1'].public_id}/",
            {"organizationId": world["org2"].public_id},
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
        r = api.get(
            f"{LIST}{world['org1'].public_id}/",
            {"tenantId": world["other_tenant"].public_id},
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 404


@pytest.mark.django_db
class TestWrite:
    def test_create_and_rename_are_audited(self, api, world):
        _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="cron")
        r = api.post(LIST, {"name": "Branch office"}, format="json", HTTP_X_API_KEY=raw)
        assert r.status_code == 201, r.content
        org_id = r.json()["id"]
        assert org_id.startswith("org-") and r.json()["tenant_id"] == world["tenant"].public_id
        event = AuditEvent.objects.get(action="organization.created", target_id=org_id)
        assert event.channel == "api" and event.api_key_id
        r = api.patch(f"{LIST}{org_id}/", {"name": "Branch"}, format="json", HTTP_X_API_KEY=raw)
        assert r.json()["name"] == "Branch"
        assert AuditEvent.objects.get(action="organization.updated", target_id=org_id).changes["name"] == {
            "from": "Branch office",
            "to": "Branch",
        }

    def test_tenant_admin_creates_org_admin_does_not(self, api, world):
        tenant_admin = add_member(world["org1"], "viewer")
        services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role="admin")
        api.force_login(tenant_admin)
        assert api.post(LIST, {"name": "By tenant admin"}, format="json").status_code == 201
        api.force_login(world["admin"])
        r = api.post(LIST, {"name": "By org admin"}, format="json")
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")

    def test_org_scoped_key_cannot_create(self, api, world):
        r = api.post(LIST, {"name": "x"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        assert "organization-scoped key" in r.json()["message"]

    @pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 201}])
    def test_name_validation(self, api, world, body):
        api.force_login(world["owner"])
        r = api.post(LIST, body, format="json")
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
        assert "name" in r.json()["details"]["fields"]

    def test_create_in_another_tenant_by_tenant_id(self, api, world):
        api.force_login(world["owner"])
        r = api.post(f"{LIST}?tenantId={world['other_tenant'].public_id}", {"name": "x"}, format="json")
        assert (r.status_code, r.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED")
