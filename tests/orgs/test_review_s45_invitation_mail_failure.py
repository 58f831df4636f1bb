"""Review s45 (D): an invitation whose mail could not be sent (SPEC §7, §9).

The invitation is written, audited and committed, then its mail leaves (after the commit, so a
rolled-back invitation mails nobody). When the mail server refused it, the error escaped the
commit and the person inviting got a 500 ("Server error") although the invitation existed,
listed as pending: they invited again, or gave up. Every other mail Tater sends after a commit
(security notices, leaked-key alerts) is sent robustly: the failure is logged and the change it
reports stands. An invitation now behaves the same: 201 (the UI: the invitation and its link to
copy), the failure in the log (never the link), and Resend sends a new one.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from rest_framework.test import APIClient

from orgs.models import Invitation

pytestmark = pytest.mark.django_db(transaction=True)


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages: Any) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_a_mail_server_error_does_not_turn_a_committed_invitation_into_a_500(world, settings, caplog):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    api = APIClient(raise_request_exception=False)
    api.force_login(world["owner"])
    url = f"/api/v1/organizations/{world['org1'].public_id}/members/"

    with caplog.at_level(logging.WARNING):
        r = api.post(url, {"email": "new.person@invited.test", "role": "member"}, format="json")

    assert r.status_code == 201, r.content
    assert r.json()["result"] == "invited"
    invitation = Invitation.objects.get(email="new.person@invited.test")
    assert invitation.revoked_at is None
    listed = api.get(url).json()
    assert [row["email"] for row in listed["pending_invitations"]] == ["new.person@invited.test"]
    failures = [record for record in caplog.records if "invitation" in record.getMessage().lower()]
    assert failures, [record.getMessage() for record in caplog.records]
    assert all("/invitations/" not in record.getMessage() for record in caplog.records)


def test_a_resend_whose_mail_fails_still_answers(world, settings, client):
    api = APIClient(raise_request_exception=False)
    api.force_login(world["owner"])
    url = f"/api/v1/organizations/{world['org1'].public_id}/members/"
    assert api.post(url, {"email": "again@invited.test", "role": "viewer"}, format="json").status_code == 201
    invitation = Invitation.objects.get(email="again@invited.test")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    client.raise_request_exception = False
    client.force_login(world["owner"])
    r = client.post(f"/members/invitations/{invitation.public_id}/resend/?organizationId={world['org1'].public_id}")
    assert r.status_code in (200, 302), r.status_code
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and invitation.accepted_at is None
