"""Member services: rank rules, audit rows, invitation tokens and email timing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from audit.models import AuditEvent
from orgs import members, selectors, services
from orgs.models import Invitation, OrgMembership
from tater.exceptions import Conflict, InvalidInput, NotPermitted
from tests.factories import UserFactory


def link(token: str) -> str:
    return f"https://tater.example/invitations/{token}/"


@pytest.mark.django_db
class TestMemberServices:
    def test_invite_stores_only_the_digest_and_mails_after_commit(self, world, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = members.member_add_by_email(
                organization=world["org1"], email="a@example.com", role="viewer", actor=world["admin"], accept_url=link
            )
        assert mail.outbox == [] and len(callbacks) == 1
        callbacks[0]()
        token = mail.outbox[0].body.split("/invitations/")[1].split("/")[0]
        assert result.result == "invited"
        assert Invitation.objects.get().token_digest == selectors.invitation_digest(token)
        assert AuditEvent.objects.get(action="member.invited").actor_user_id == world["admin"].pk

    def test_rollback_sends_nothing(self, world, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            with transaction.atomic():
                members.member_add_by_email(
                    organization=world["org1"],
                    email="b@example.com",
                    role="viewer",
                    actor=world["owner"],
                    accept_url=link,
                )
                raise RuntimeError("boom")
        assert mail.outbox == [] and not Invitation.objects.exists()

    def test_member_and_viewer_cannot_manage(self, world):
        for actor in (world["member"], world["viewer"]):
            with pytest.raises(NotPermitted):
                members.member_add_by_email(
                    organization=world["org1"], email="c@example.com", role="viewer", actor=actor, accept_url=link
                )
            with pytest.raises(NotPermitted):
                members.member_remove(organization=world["org1"], user=world["viewer"], actor=actor)

    def test_update_and_remove_are_audited(self, world):
        user = UserFactory()
        members.member_add_by_email(
            organization=world["org1"], email=user.email, role="viewer", actor=world["admin"], accept_url=link
        )
        members.member_update(organization=world["org1"], user=user, actor=world["admin"], role="admin")
        members.member_remove(organization=world["org1"], user=user, actor=world["admin"])
        actions = list(
            AuditEvent.objects.filter(target_id=user.public_id).order_by("seq", "id").values_list("action", flat=True)
        )
        assert actions == ["member.added", "member.role_changed", "member.removed"]
        assert not OrgMembership.objects.filter(user=user).exists()

    def test_invalid_values(self, world):
        with pytest.raises(InvalidInput):
            members.member_update(organization=world["org1"], user=world["viewer"], actor=world["owner"], role="boss")
        with pytest.raises(InvalidInput):
            members.member_add_by_email(
                organization=world["org1"], email="not-an-email", role="viewer", actor=world["owner"], accept_url=link
            )

    def test_last_owner(self, world):
        with pytest.raises(Conflict):
            members.member_remove(organization=world["org1"], user=world["owner"], actor=world["owner"])

    def test_org_create_and_rename_enforce_roles(self, world):
        with pytest.raises(NotPermitted):
            services.org_create(tenant=world["tenant"], name="x", actor=world["admin"], enforce_permissions=True)
        with pytest.raises(NotPermitted):
            services.org_rename(organization=world["org1"], name="x", actor=world["member"], enforce_permissions=True)
        org = services.org_rename(
            organization=world["org1"], name="Renamed", actor=world["admin"], enforce_permissions=True
        )
        assert org.name == "Renamed"


def invite(world, email: str, role: str) -> str:
    """An admin of org1 invites ``email``; the token the mail would carry."""
    tokens: list[str] = []

    def capture(token: str) -> str:
        tokens.append(token)
        return link(token)

    members.member_add_by_email(
        organization=world["org1"], email=email, role=role, actor=world["admin"], accept_url=capture
    )
    return tokens[0]


@pytest.mark.django_db
def test_accepting_an_invitation_is_audited_with_the_invitation_and_who_sent_it(world):
    token = invite(world, "new@example.com", "viewer")
    invitation = Invitation.objects.get(email="new@example.com")
    joiner = UserFactory(email="new@example.com")
    members.invitation_accept(token=token, user=joiner)
    entry = AuditEvent.objects.filter(action="member.added", target_id=joiner.public_id).get()
    assert entry.actor_user_id == joiner.pk
    assert entry.changes["via"] == {
        "invitation": invitation.public_id,
        "invited_by": world["admin"].email,
        "email": "new@example.com",
    }


@pytest.mark.django_db
def test_the_same_person_added_twice_at_once_is_a_conflict_not_a_500(world, monkeypatch):
    """Two adds of one verified person at the same moment: the second insert meets the
    unique constraint and answers 409 (already a member), the membership stays one."""
    from tater.exceptions import Conflict

    person = UserFactory()
    services.org_member_set(organization=world["org1"], user=person, role="viewer", actor=world["admin"])
    real = OrgMembership.objects.select_for_update

    def unseen(*args, **kwargs):
        # The other request's insert lands after this one looked and before it inserts.
        monkeypatch.setattr(OrgMembership.objects, "select_for_update", real)
        return OrgMembership.objects.none()

    monkeypatch.setattr(OrgMembership.objects, "select_for_update", unseen)
    with pytest.raises(Conflict):
        services.org_member_set(organization=world["org1"], user=person, role="member", actor=world["admin"])
    assert OrgMembership.objects.get(organization=world["org1"], user=person).role == "viewer"


@pytest.mark.django_db
def test_an_invitation_used_by_someone_already_a_member_is_audited_too(world):
    """SPEC §7: the invitation is used up (a write) even when its holder joined meanwhile by
    another way; that left no entry (lifecycle review s34)."""
    token = invite(world, "new@example.com", "admin")
    joiner = UserFactory(email="new@example.com")
    services.org_member_set(organization=world["org1"], user=joiner, role="viewer", actor=world["admin"])
    before = AuditEvent.objects.count()
    membership = members.invitation_accept(token=token, user=joiner)
    assert membership.role == "viewer"  # an invitation never changes an existing role
    entry = AuditEvent.objects.filter(pk__gt=0).order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
    assert (entry.action, entry.actor_user_id, entry.target_id) == (
        "member.invitation_accepted",
        joiner.pk,
        joiner.public_id,
    )
    assert entry.changes["role"] == {"from": "viewer", "to": "viewer"}
