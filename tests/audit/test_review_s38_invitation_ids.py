"""SPEC §7 and §1: the Activity Log names an accepted invitation by the id its ``member.invited``
entry gave it (``inv-<uuid>``), never by a database row number: a sequential integer is no
API id, tells how many invitations the whole platform has sent, and matches no other entry."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.factories import UserFactory


def _invite(api: Any, world: dict[str, Any], email: str, django_capture_on_commit_callbacks: Any) -> str:
    """The owner invites ``email`` to org1 over the API; the accept path the mail carries."""
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(
            f"/api/v1/organizations/{world['org1'].public_id}/members/",
            {"email": email, "role": "member"},
            format="json",
            HTTP_X_API_KEY=world["owner_raw"],
        )
    assert r.status_code == 201, r.content
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)


def _entries(api: Any, world: dict[str, Any], action: str) -> list[dict[str, Any]]:
    r = api.get("/api/v1/audit-log/", {"action": action}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    return r.json()["entries"]


@pytest.mark.django_db
def test_the_membership_an_invitation_gave_names_it_as_its_invitation_entry_does(
    api, world, django_capture_on_commit_callbacks
) -> None:
    link = _invite(api, world, "joiner@example.com", django_capture_on_commit_callbacks)
    joiner = UserFactory(email="joiner@example.com")
    browser = Client()
    browser.force_login(joiner)
    assert browser.post(link).status_code == 302

    (invited,) = _entries(api, world, "member.invited")
    (added,) = [e for e in _entries(api, world, "member.added") if e["target"]["id"] == joiner.public_id]
    assert invited["target"]["id"].startswith("inv-")
    assert added["changes"]["via"]["invitation"] == invited["target"]["id"]


@pytest.mark.django_db
def test_an_invitation_used_by_someone_already_a_member_names_it_too(
    api, world, django_capture_on_commit_callbacks
) -> None:
    link = _invite(api, world, "late@example.com", django_capture_on_commit_callbacks)
    joiner = UserFactory(email="late@example.com")
    # Added directly meanwhile (the address is verified now), then the link is used.
    r = api.post(
        f"/api/v1/organizations/{world['org1'].public_id}/members/",
        {"email": "late@example.com", "role": "viewer"},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 201 and r.json()["result"] == "added", r.content
    browser = Client()
    browser.force_login(joiner)
    browser.post(link)

    entries = _entries(api, world, "member.invitation_accepted")
    (invited,) = _entries(api, world, "member.invited")
    assert [entry["changes"]["invitation"] for entry in entries] == [invited["target"]["id"]]
