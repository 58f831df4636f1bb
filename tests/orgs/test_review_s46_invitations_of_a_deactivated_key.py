"""Review s46 (J): an invitation sent through a key that is then deactivated (SPEC §2 "is_active
(deactivate/reactivate)", §2a, §14).

Revoking a key withdraws the invitations it sent (test_review_s46_invitations_of_a_revoked_key).
A deactivation is reversible, so it withdraws nothing; but the invitation was still accepted
while the key was off: an owner who deactivates a key they suspect (the first thing the key page
offers) still let its finder join through the invitation it sent. Decision (docs/authorization.md,
as "a suspended inviter's invitations are held"): while the key is deactivated its invitations are
on hold: the link is refused (410), they are listed under ``held_invitations``, never as pending;
reactivating the key makes them pending again, and a resend from a session (the person vouching
alone from then on) releases one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs.models import OrgMembership
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db

FINDER = "finder@elsewhere.test"


def _members(api: Any, world: dict[str, Any]) -> dict[str, Any]:
    api.force_login(world["owner"])
    r = api.get(f"/api/v1/organizations/{world['org1'].public_id}/members/")
    api.logout()
    assert r.status_code == 200, r.content
    return dict(r.json())


def _invite_through_key(api: Any, world: dict[str, Any], capture: Any, mailoutbox: list[Any]) -> tuple[Any, str]:
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="suspect")
    with capture(execute=True):
        r = api.post(
            f"/api/v1/organizations/{world['org1'].public_id}/members/",
            {"email": FINDER, "role": "member"},
            format="json",
            HTTP_X_API_KEY=raw,
        )
    assert r.status_code == 201, r.content
    found = re.search(r"/invitations/[^/\s]+/", mailoutbox[-1].body)
    assert found
    return key, found.group(0)


def _switch(api: Any, world: dict[str, Any], key: Any, action: str) -> None:
    api.force_login(world["owner"])
    r = api.post(f"/api/v1/keys/{key.public_id}/{action}/?organizationId={world['org1'].public_id}")
    api.logout()
    assert r.status_code == 200, r.content


def _finder() -> Client:
    client = Client()
    client.force_login(UserFactory(email=FINDER))
    return client


def test_while_the_key_is_deactivated_its_invitation_is_held_and_refused(
    api: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    key, link = _invite_through_key(api, world, django_capture_on_commit_callbacks, mailoutbox)
    _switch(api, world, key, "deactivate")

    listed = _members(api, world)
    assert [row["email"] for row in listed["pending_invitations"]] == []
    assert [row["email"] for row in listed["held_invitations"]] == [FINDER]
    finder = _finder()
    page = finder.get(link)
    assert page.status_code == 410 and "deactivated" in page.content.decode()
    assert finder.post(link).status_code == 410
    assert not OrgMembership.objects.filter(user__email=FINDER).exists()
    assert not AuditEvent.objects.filter(action="member.invitation_revoked").exists()  # nothing withdrawn
    owner = Client()
    owner.force_login(world["owner"])
    members_page = owner.get(f"/members/?organizationId={world['org1'].public_id}").content.decode()
    assert "Invitations on hold (1)" in members_page
    assert "through an API key now deactivated" in members_page


def test_reactivating_the_key_makes_it_pending_again(
    api: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    key, link = _invite_through_key(api, world, django_capture_on_commit_callbacks, mailoutbox)
    _switch(api, world, key, "deactivate")
    _switch(api, world, key, "activate")

    assert [row["email"] for row in _members(api, world)["pending_invitations"]] == [FINDER]
    _finder().post(link)
    assert OrgMembership.objects.filter(organization=world["org1"], user__email=FINDER).exists()


def test_a_resend_from_a_session_releases_it(
    api: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    key, _ = _invite_through_key(api, world, django_capture_on_commit_callbacks, mailoutbox)
    _switch(api, world, key, "deactivate")
    (held,) = _members(api, world)["held_invitations"]
    api.force_login(world["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/v1/organizations/{world['org1'].public_id}/invitations/{held['id']}/resend/")
    api.logout()
    assert r.status_code == 200, r.content
    found = re.search(r"/invitations/[^/\s]+/", mailoutbox[-1].body)
    assert found

    _finder().post(found.group(0))
    assert OrgMembership.objects.filter(organization=world["org1"], user__email=FINDER).exists()
