"""The member list pages its pending invitations by the same ``limit``/``offset`` as its
members (README Endpoints), and ``members.iter`` walks members only: a script wanting every
pending invitation (to resend or withdraw them) had to page by hand. ``members.iter_invitations``
walks them all, each once."""

from __future__ import annotations

from typing import Any


def test_iter_invitations_walks_every_page(acme: Any, tater: Any) -> None:
    sent = {tater.members.add(acme.org.public_id, f"person{n}@invited.test").invitation.id for n in range(3)}
    walked = list(tater.members.iter_invitations(acme.org.public_id, page_size=2))
    assert {i.id for i in walked} == sent and len(walked) == 3
    assert list(tater.members.iter_invitations(acme.org.public_id, held=True)) == []
