"""SPEC §14 (a leaked key's owner is emailed, told what the key did): the mail listed every
invitation the key had sent that was withdrawn under one heading, "withdrawn with it", also
those an admin had withdrawn days before the leak. The owner then read that the revocation
had stopped an invitation that was in fact stopped long ago (and by whom it does not say),
and could not tell what the alert itself changed. Now the invitations withdrawn with the key
and those withdrawn before are two lists."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def _invite(api: Any, org: Any, raw: str, email: str) -> str:
    r = api.post(
        f"/api/v1/organizations/{org.public_id}/members/",
        {"email": email, "role": "member"},
        format="json",
        HTTP_X_API_KEY=raw,
    )
    assert r.status_code == 201 and r.json()["result"] == "invited", r.content
    return str(r.json()["invitation"]["id"])


def test_invitations_withdrawn_before_the_leak_are_not_said_withdrawn_with_it(
    api: Any, world: dict[str, Any], report_leak: Any, mailoutbox: list[Any]
) -> None:
    org, leaked_raw = world["org1"], world["owner_raw"]
    earlier = _invite(api, org, leaked_raw, "earlier@elsewhere.test")
    _invite(api, org, leaked_raw, "pending@elsewhere.test")
    r = api.delete(f"/api/v1/organizations/{org.public_id}/invitations/{earlier}/", HTTP_X_API_KEY=leaked_raw)
    assert r.status_code == 204, r.content
    mailoutbox.clear()

    report_leak(leaked_raw)

    (mail,) = mailoutbox
    _, _, with_it = mail.body.partition("Invitations it sent, withdrawn with it")
    assert "pending@elsewhere.test: member of organization " + org.name in with_it, mail.body
    with_it, _, before = with_it.partition("Invitations it sent that were withdrawn before")
    assert "earlier@elsewhere.test" not in with_it, mail.body
    assert "earlier@elsewhere.test: member of organization " + org.name in before, mail.body


def test_only_earlier_withdrawals_get_only_their_own_heading(
    api: Any, world: dict[str, Any], report_leak: Any, mailoutbox: list[Any]
) -> None:
    org, leaked_raw = world["org1"], world["owner_raw"]
    earlier = _invite(api, org, leaked_raw, "earlier@elsewhere.test")
    r = api.delete(f"/api/v1/organizations/{org.public_id}/invitations/{earlier}/", HTTP_X_API_KEY=leaked_raw)
    assert r.status_code == 204, r.content
    mailoutbox.clear()

    report_leak(leaked_raw)

    (mail,) = mailoutbox
    assert "withdrawn with it" not in mail.body, mail.body
    assert "Invitations it sent that were withdrawn before" in mail.body, mail.body
