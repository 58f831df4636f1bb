"""SPEC §14 (a leaked key's owner is emailed): the invitations a leaked key sent are withdrawn
with it (docs/authorization.md). The mail said nothing of them, so the owner never learnt which
address the finder tried to let in, the one pointer to who found the key. It now names them,
apart from the people who keep their access."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_the_leak_mail_names_the_invitations_withdrawn_with_the_key(
    api: Any, world: dict[str, Any], report_leak: Any, mailoutbox: list[Any]
) -> None:
    org, leaked_raw = world["org1"], world["owner_raw"]
    r = api.post(
        f"/api/v1/organizations/{org.public_id}/members/",
        {"email": "finder@elsewhere.test", "role": "admin"},
        format="json",
        HTTP_X_API_KEY=leaked_raw,
    )
    assert r.status_code == 201 and r.json()["result"] == "invited", r.content
    mailoutbox.clear()  # the invitation's own mail

    report_leak(leaked_raw)

    (mail,) = mailoutbox
    kept, _, withdrawn = mail.body.partition("Invitations it sent, withdrawn with it")
    assert withdrawn, mail.body
    assert "finder@elsewhere.test: admin of organization " + org.name in withdrawn
    assert "finder@elsewhere.test" not in kept
