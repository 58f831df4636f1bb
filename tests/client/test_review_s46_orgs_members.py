"""Review s46: SPEC §5 lists ``GET organizations/``, ``GET organizations/{id}/``, ``GET|POST
organizations/{id}/members/`` and ``PATCH|DELETE …/members/{user_id}/``, and the README's
endpoint table adds creating and renaming orgs; the client had no typed call for any of them.
An integrator scripting onboarding (add people, change roles, remove leavers) fell back to
``tater.request`` and raw dicts, paged the member list by hand, and a refusal to remove the
tenant's last owner (409 ``CONFLICT``) came as a bare ``TaterError`` with no class to catch.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from tater_client import (
    Conflict,
    Invitation,
    Member,
    MemberPage,
    NotFound,
    Organization,
    OrganizationPage,
    PermissionDenied,
    TaterError,
    ValidationError,
)

from tests.factories import UserFactory, make_key, make_tenant

UNKNOWN_USER = "usr-00000000-0000-4000-8000-000000000000"


def test_organizations_list_and_get(acme, connect, tater):
    page = tater.organizations.list()
    assert isinstance(page, OrganizationPage) and page.total == 1
    (org,) = page.organizations
    assert isinstance(org, Organization)
    assert (org.id, org.name, org.tenant_id) == (acme.org.public_id, acme.org.name, acme.tenant.public_id)
    assert isinstance(org.created_at, datetime) and org.created_at.tzinfo is not None
    assert list(tater.organizations.iter()) == [org]
    assert tater.organizations.get(acme.org.public_id) == org

    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    assert {o.id for o in connect(unbound).organizations.iter()} == {acme.org.public_id, acme.other_org.public_id}

    other_tenant, _, (foreign,) = make_tenant(name="Globex", plan="enterprise", orgs=1)
    with pytest.raises(NotFound):  # another tenant's org: never found (SPEC §1)
        tater.organizations.get(foreign.public_id)


def test_organizations_create_and_rename(acme, connect, tater):
    with pytest.raises(PermissionDenied):  # an org-scoped key is confined to its org
        tater.organizations.create("Research")
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    created = connect(unbound).organizations.create("Research")
    assert created.name == "Research" and created.id.startswith("org-") and created.tenant_id == acme.tenant.public_id
    renamed = tater.organizations.rename(acme.org.public_id, "Acme HQ")
    assert renamed.name == "Acme HQ" and tater.organizations.get(acme.org.public_id).name == "Acme HQ"
    with pytest.raises(ValidationError) as refused:
        tater.organizations.rename(acme.org.public_id, "")
    assert "name" in refused.value.fields


def test_members_list_get_and_every_page(acme, tater):
    people = [acme.member(role) for role in ("member", "viewer", "admin", "member")]
    page = tater.members.list(acme.org.public_id, limit=2)
    assert isinstance(page, MemberPage) and page.total == 5 and (page.limit, page.offset) == (2, 0)
    assert all(isinstance(m, Member) for m in page.members) and len(page.members) == 2
    everyone = list(tater.members.iter(acme.org.public_id, page_size=2))
    assert sorted(m.email for m in everyone) == sorted([acme.owner.email, *(p.email for p in people)])
    assert [m.email for m in everyone] == sorted(m.email for m in everyone)  # ordered by email
    owner = next(m for m in everyone if m.email == acme.owner.email)
    assert owner.tenant_role == "owner" and owner.effective_role == "owner"
    viewer = tater.members.get(acme.org.public_id, people[1].public_id)
    assert (viewer.user_id, viewer.email, viewer.role, viewer.tenant_role) == (
        people[1].public_id,
        people[1].email,
        "viewer",
        None,
    )
    with pytest.raises(NotFound):
        tater.members.get(acme.org.public_id, UNKNOWN_USER)
    with pytest.raises(NotFound):  # the other org of the tenant is reachable; an unknown one is not
        tater.members.list("org-00000000-0000-4000-8000-000000000000")


def test_members_iter_yields_each_once_while_people_join(acme, tater):
    for _ in range(4):
        acme.member()
    seen: list[str] = []
    for member in tater.members.iter(acme.org.public_id, page_size=2):
        seen.append(member.user_id)
        if len(seen) == 1:
            # Sorts before everyone: every later page moves one place down (limit/offset).
            newcomer = UserFactory(email="aaa-first@example.com")
            tater.members.add(acme.org.public_id, newcomer.email)
    assert len(seen) == len(set(seen))
    assert len(seen) >= 5


def test_members_add_invite_update_remove(acme, tater):
    person = UserFactory()
    added = tater.members.add(acme.org.public_id, person.email, role="viewer")
    assert added.result == "added" and added.invitation is None
    assert isinstance(added.member, Member) and (added.member.user_id, added.member.role) == (
        person.public_id,
        "viewer",
    )

    invited = tater.members.add(acme.org.public_id, "new.person@example.com")
    assert invited.result == "invited" and invited.member is None
    assert isinstance(invited.invitation, Invitation)
    assert (invited.invitation.email, invited.invitation.role) == ("new.person@example.com", "member")
    assert invited.invitation.expires_at is not None and invited.invitation.expires_at.tzinfo is not None
    page = tater.members.list(acme.org.public_id)
    assert [i.email for i in page.pending_invitations] == ["new.person@example.com"]
    assert page.pending_invitations_total == 1 and page.held_invitations == []

    changed = tater.members.update(acme.org.public_id, person.public_id, role="admin")
    assert changed.role == "admin" and tater.members.get(acme.org.public_id, person.public_id).role == "admin"
    assert tater.members.remove(acme.org.public_id, person.public_id) is None
    with pytest.raises(NotFound):
        tater.members.get(acme.org.public_id, person.public_id)

    with pytest.raises(ValidationError) as refused:
        tater.members.add(acme.org.public_id, "someone@example.com", role="superuser")
    assert "role" in refused.value.fields


def test_the_last_owner_is_a_conflict(acme, connect, tater):
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    owner = connect(unbound)  # tenant roles change through the owner's unbound key
    with pytest.raises(Conflict) as refused:
        owner.members.remove(acme.org.public_id, acme.owner.public_id)
    assert isinstance(refused.value, TaterError)
    assert (refused.value.status, refused.value.code) == (409, "CONFLICT") and refused.value.request_id
    with pytest.raises(Conflict):
        owner.members.update(acme.org.public_id, acme.owner.public_id, tenant_role=None)
    assert tater.members.get(acme.org.public_id, acme.owner.public_id).tenant_role == "owner"


def test_ids_are_path_segments_and_never_secrets(acme, tater):
    _, raw = make_key(user=acme.owner, tenant=acme.tenant, org=acme.org, name="other")
    with pytest.raises(ValueError):
        tater.members.get(acme.org.public_id, raw)
    with pytest.raises(ValueError):
        tater.organizations.get("..")
    with pytest.raises(NotFound):  # one path segment: never DELETE keys/
        tater.members.remove(acme.org.public_id, "../../keys")
    assert tater.validate().valid
