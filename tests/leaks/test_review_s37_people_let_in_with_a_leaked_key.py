"""Review s37: the people a leaked key let in (SPEC §14, §2a, §8).

A key found in public that carries ``members:write`` lets whoever found it invite an address
of theirs into the organization (or add an account they already hold): the invitation stays
valid, and the membership stays, once GitHub's alert has revoked the key. The leak mail
listed the keys made with the leaked key, not the people invited or added with it, so the
owner had no pointer to the one way in that outlives the key. Now the mail lists them (the
address, the role, the organization), to be checked like the keys; nothing is undone
automatically (an owner's own provisioning may invite through a key).
"""

from __future__ import annotations

from typing import Any

import pytest

from orgs import services as org_services
from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db


def members_url(org: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def test_the_leak_mail_lists_the_people_invited_or_added_with_the_leaked_key(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    org, leaked_raw = world["org1"], world["owner_raw"]
    accomplice = UserFactory(email="accomplice@elsewhere.test")
    invited = api.post(
        members_url(org), {"email": "finder@elsewhere.test", "role": "admin"}, format="json", HTTP_X_API_KEY=leaked_raw
    )
    assert invited.status_code in (200, 201), invited.content
    assert invited.json()["result"] == "invited"
    added = api.post(
        members_url(org), {"email": accomplice.email, "role": "member"}, format="json", HTTP_X_API_KEY=leaked_raw
    )
    assert added.status_code in (200, 201), added.content
    assert added.json()["result"] == "added"
    mailoutbox.clear()  # the invitation's own mail

    report_leak(leaked_raw)

    (mail,) = mailoutbox
    assert accomplice.email in mail.body, mail.body
    assert org.name in mail.body
    # Listed, not undone: the owner decides.
    assert OrgMembership.objects.filter(organization=org, user=accomplice).exists()
    # Since s46 the invitation the key itself sent is withdrawn with it (no way in left to list;
    # tests/leaks/test_review_s46_invitations_of_a_revoked_key.py).
    # Named apart, as withdrawn (tests/leaks/test_s46_leak_mail_names_withdrawn_invitations.py).
    assert "finder@elsewhere.test" not in mail.body.partition("withdrawn with it")[0], mail.body
    assert not Invitation.objects.filter(email="finder@elsewhere.test", revoked_at__isnull=True).exists()


def test_people_the_owner_invited_by_signing_in_are_not_listed(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    api.force_login(world["owner"])
    invited = api.post(members_url(world["org1"]), {"email": "colleague@acme.test", "role": "member"}, format="json")
    assert invited.status_code in (200, 201), invited.content
    api.logout()
    mailoutbox.clear()

    report_leak(world["owner_raw"])

    (mail,) = mailoutbox
    assert "colleague@acme.test" not in mail.body
    assert "invited or added with it" not in mail.body


def test_a_tenant_role_given_with_an_unbound_leaked_key_is_listed(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    org = world["org1"]
    accomplice = UserFactory(email="accomplice@elsewhere.test")
    org_services.org_member_set(organization=org, user=accomplice, role="member", actor=world["owner"])
    _, leaked_raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="tenant-wide key")
    raised = api.patch(
        f"{members_url(org)}{accomplice.public_id}/",
        {"tenant_role": "admin"},
        format="json",
        HTTP_X_API_KEY=leaked_raw,
        HTTP_X_WORKSPACE_ID=org.public_id,
    )
    assert raised.status_code == 200, raised.content

    report_leak(leaked_raw)

    (mail,) = mailoutbox
    assert "accomplice@elsewhere.test: admin of the tenant" in mail.body, mail.body
