"""An invitation goes to the mailbox the inviter typed, never to its case-folded key.

SPEC §8 compares addresses after NFKC and case folding, so ``Straße@x.test`` and
``strasse@x.test`` are one address for matching; but on most mail servers they are two
mailboxes. An invitation to ``Straße@x.test`` used to be stored, listed and mailed as
``strasse@x.test`` (its folded key): somebody else's mailbox got the link. Such an address
is refused as sign-up refuses it ("Enter a valid email address", 400 on ``email``); a plain
one is kept lower-cased as typed (docs/accounts.md), and compared by its key.
"""

from __future__ import annotations

import pytest
from django.core import mail

from orgs import members
from orgs.models import Invitation
from tater.exceptions import InvalidInput

pytestmark = pytest.mark.django_db


def members_url(org) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


@pytest.mark.parametrize("typed", ["Straße@x.test", "STRAßE@x.test"])
def test_the_api_refuses_an_address_whose_folded_form_is_another_mailbox(api, world, typed) -> None:
    r = api.post(
        members_url(world["org1"]), {"email": typed, "role": "member"}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 400, r.content
    assert "email" in str(r.json())
    assert not Invitation.objects.exists() and mail.outbox == []


@pytest.mark.parametrize("typed", ["Straße@x.test", "STRAßE@x.test"])
def test_the_service_refuses_it_too(world, typed, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidInput) as refused:
        members.member_add_by_email(
            organization=world["org1"], email=typed, role="member", actor=world["owner"], accept_url=lambda t: t
        )
    assert refused.value.field == "email"
    assert not Invitation.objects.exists() and mail.outbox == []


def test_a_plain_address_is_still_invited_as_typed_lower_cased(world, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = members.member_add_by_email(
            organization=world["org1"], email="Kim.Lee@X.test", role="member", actor=world["owner"], accept_url=str
        )
    assert result.invitation is not None and result.invitation.email == "kim.lee@x.test"
    assert [m.to for m in mail.outbox] == [["kim.lee@x.test"]]
