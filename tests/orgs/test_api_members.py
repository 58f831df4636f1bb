"""Members over the API: listing, adding, inviting (end to end), role changes, removal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from orgs import selectors, services
from orgs.models import Invitation, OrgMembership, TenantMembership
from tests.factories import UserFactory, add_member, make_key


def members_url(org) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def member_url(org, user) -> str:
    return f"{members_url(org)}{user.public_id}/"


@pytest.mark.django_db
class TestList:
    def test_lists_members_and_tenant_roles(self, api, world):
        r = api.get(members_url(world["org1"]), HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200
        rows = {m["email"]: m for m in r.json()["members"]}
        assert rows[world["owner"].email] | {"joined_at": None} == {
            "user_id": world["owner"].public_id,
            "email": world["owner"].email,
            "role": None,
            "tenant_role": "owner",
            "effective_role": "owner",
            "joined_at": None,
        }
        assert rows[world["viewer"].email]["role"] == "viewer"
        assert r.json()["total"] == 4
        assert world["other_owner"].email not in rows
        r = api.get(members_url(world["org1"]), {"limit": 1, "offset": 1}, HTTP_X_API_KEY=world["owner_raw"])
        assert len(r.json()["members"]) == 1 and r.json()["total"] == 4

    def test_unknown_member_is_404(self, api, world):
        unknown = "usr-00000000-0000-4000-8000-000000000000"
        for user_id in ("999999", "abc", unknown, str(world["viewer"].pk), world["other_owner"].public_id):
            r = api.get(f"{members_url(world['org1'])}{user_id}/", HTTP_X_API_KEY=world["owner_raw"])
            assert r.status_code == 404, user_id


@pytest.mark.django_db
class TestInvitation:
    def test_end_to_end(self, api, client, world, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            r = api.post(
                members_url(world["org1"]),
                {"email": "New.Person@Example.com", "role": "member"},
                format="json",
                HTTP_X_API_KEY=world["owner_raw"],
            )
        assert r.status_code == 201, r.content
        assert r.json()["result"] == "invited" and r.json()["member"] is None
        assert r.json()["invitation"]["email"] == "new.person@example.com"
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["new.person@example.com"] and "Acme Org 1" in message.subject
        link = re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)
        token = link.split("/")[2]
        invitation = Invitation.objects.get()
        assert token not in invitation.token_digest and len(invitation.token_digest) == 64
        event = AuditEvent.objects.get(action="member.invited")
        assert event.changes["email"] == {"to": "new.person@example.com"} and token not in str(event.changes)
        # Pending invitations are listed.
        listing = api.get(members_url(world["org1"]), HTTP_X_API_KEY=world["owner_raw"]).json()
        assert [i["email"] for i in listing["pending_invitations"]] == ["new.person@example.com"]

        # Anonymous: sign in first.
        assert client.get(link).status_code == 302
        # Someone else signed in: refused.
        client.force_login(world["viewer"])
        assert client.post(link).status_code == 403
        newcomer = UserFactory(email="new.person@example.com")
        client.force_login(newcomer)
        page = client.get(link)
        assert page.status_code == 200 and b"Accept and join" in page.content
        assert not OrgMembership.objects.filter(user=newcomer).exists()  # GET changes nothing
        assert client.post(link).status_code == 302
        assert OrgMembership.objects.get(user=newcomer, organization=world["org1"]).role == "member"
        assert AuditEvent.objects.filter(action="member.added", target_id=newcomer.public_id).exists()
        # Single use: the person who joined is told so (tests/ui/test_review_s38_invitation_accepted_twice.py);
        # anyone else gets the 410.
        assert client.post(link).status_code == 302
        client.force_login(UserFactory())
        again = client.post(link)
        assert again.status_code == 410 and b"already been used" in again.content

    def test_expired_link(self, api, client, world):
        r = api.post(
            members_url(world["org1"]),
            {"email": "late@example.com", "role": "viewer"},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 201
        token = "t" * 43
        Invitation.objects.update(
            token_digest=selectors.invitation_digest(token), expires_at=timezone.now() - timedelta(seconds=1)
        )
        client.force_login(UserFactory(email="late@example.com"))
        r = client.post(f"/invitations/{token}/")
        assert r.status_code == 410 and b"expired" in r.content
        assert not OrgMembership.objects.filter(user__email="late@example.com").exists()

    def test_unknown_token(self, client, world):
        client.force_login(world["viewer"])
        assert client.get("/invitations/nope/").status_code == 404

    def test_reinvite_replaces_the_old_link(self, api, world):
        for _ in range(2):
            api.post(
                members_url(world["org1"]), {"email": "x@example.com"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
            )
        assert Invitation.objects.filter(revoked_at__isnull=True).count() == 1
        assert Invitation.objects.count() == 2

    def test_existing_user_is_added_at_once(self, api, world):
        user = UserFactory()
        r = api.post(
            members_url(world["org1"]),
            {"email": user.email.upper(), "role": "viewer"},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert r.status_code == 201 and r.json()["result"] == "added"
        assert r.json()["member"]["user_id"] == user.public_id and r.json()["member"]["role"] == "viewer"
        assert AuditEvent.objects.filter(action="member.added", target_id=user.public_id).exists()
        r = api.post(
            members_url(world["org1"]),
            {"email": user.email, "role": "viewer"},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
        assert (r.status_code, r.json()["error"]) == (409, "CONFLICT")

    @pytest.mark.parametrize(
        "body,field", [({"email": "nope"}, "email"), ({"email": "a@b.co", "role": "owner"}, "role")]
    )
    def test_validation(self, api, world, body, field):
        r = api.post(members_url(world["org1"]), body, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")
        assert field in r.json()["details"]["fields"]


@pytest.mark.django_db
class TestRoles:
    def test_role_change_takes_effect_on_the_members_keys_at_once(self, api, world):
        member, org1 = world["member"], world["org1"]
        upload = {"scanner": "x", "target": "y", "started_at": "2026-01-01T00:00:00Z"}
        assert (
            api.post("/api/scans/upload", upload, format="json", HTTP_X_API_KEY=world["member_raw"]).status_code == 201
        )
        r = api.patch(member_url(org1, member), {"role": "viewer"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert r.status_code == 200 and r.json()["role"] == "viewer"
        r = api.post("/api/scans/upload", upload, format="json", HTTP_X_API_KEY=world["member_raw"])
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        event = AuditEvent.objects.get(action="member.role_changed", target_id=member.public_id)
        assert event.changes == {"role": {"from": "member", "to": "viewer"}}
        # Removal kills the key: revoked, for good (docs/authorization.md, "Removal kills").
        assert api.delete(member_url(org1, member), HTTP_X_API_KEY=world["owner_raw"]).status_code == 204
        r = api.get("/api/v1/scans/", HTTP_X_API_KEY=world["member_raw"])
        assert (r.status_code, r.json()["error"]) == (401, "KEY_REVOKED")
        assert AuditEvent.objects.filter(action="member.removed", target_id=member.public_id).exists()

    def test_org_admin_grants_up_to_admin_but_no_tenant_role(self, api, world):
        api.force_login(world["admin"])
        org1, viewer = world["org1"], world["viewer"]
        assert api.patch(member_url(org1, viewer), {"role": "admin"}, format="json").status_code == 200
        r = api.patch(member_url(org1, viewer), {"tenant_role": "admin"}, format="json")
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        # ...and cannot touch the tenant owner, who ranks above.
        r = api.patch(member_url(org1, world["owner"]), {"role": "viewer"}, format="json")
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        r = api.delete(member_url(org1, world["owner"]))
        assert r.status_code == 403
        assert TenantMembership.objects.filter(user=world["owner"], role="owner").exists()

    def test_tenant_admin_cannot_grant_owner(self, api, world):
        tenant_admin = add_member(world["org1"], "viewer")
        services.tenant_member_set(tenant=world["tenant"], user=tenant_admin, role="admin")
        api.force_login(tenant_admin)
        r = api.patch(member_url(world["org1"], world["viewer"]), {"tenant_role": "owner"}, format="json")
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        assert (
            api.patch(member_url(world["org1"], world["viewer"]), {"tenant_role": "admin"}, format="json").status_code
            == 200
        )

    def test_last_owner_cannot_be_demoted_or_removed(self, api, world):
        org1, owner = world["org1"], world["owner"]
        api.force_login(owner)
        r = api.patch(member_url(org1, owner), {"tenant_role": "admin"}, format="json")
        assert (r.status_code, r.json()["error"]) == (409, "CONFLICT")
        assert r.json()["message"] == "The last owner of a tenant cannot be removed or demoted"
        r = api.delete(member_url(org1, owner))
        assert (r.status_code, r.json()["error"]) == (409, "CONFLICT")
        # With a second owner the first may step down.
        services.tenant_member_set(tenant=world["tenant"], user=world["admin"], role="owner")
        assert api.patch(member_url(org1, owner), {"tenant_role": None}, format="json").status_code == 200
        assert not TenantMembership.objects.filter(user=owner).exists()

    def test_member_cannot_write_members(self, api, world):
        api.force_login(world["member"])
        r = api.patch(member_url(world["org1"], world["viewer"]), {"role": "member"}, format="json")
        assert (r.status_code, r.json()["error"]) == (403, "PERMISSION_DENIED")
        assert r.json()["details"]["required_permissions"] == ["members:write"]

    def test_empty_patch(self, api, world):
        r = api.patch(member_url(world["org1"], world["viewer"]), {}, format="json", HTTP_X_API_KEY=world["owner_raw"])
        assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR")

    def test_key_of_other_tenant_cannot_touch_members(self, api, world):
        r = api.delete(member_url(world["org1"], world["viewer"]), HTTP_X_API_KEY=world["other_raw"])
        assert r.status_code == 404
        _, unbound = make_key(user=world["other_owner"], tenant=world["other_tenant"], org=None, name="cron")
        r = api.delete(member_url(world["org1"], world["viewer"]), HTTP_X_API_KEY=unbound)
        assert r.status_code == 404
        assert OrgMembership.objects.filter(user=world["viewer"]).exists()
