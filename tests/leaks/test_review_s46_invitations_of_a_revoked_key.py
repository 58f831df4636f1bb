"""Review s46 (J): an invitation sent through an API key outlives the key (SPEC §14, §2a, §7).

A key found in public that carries ``members:write`` lets its finder invite an address of
theirs (``POST …/members/``, or resend an invitation through it). GitHub reports the key, it
is revoked, yet the invitation stayed pending for 72 h, vouched for by the key's owner: the
finder accepted it after the revocation and became a member. The same held for a key revoked
by its owner (API, key page), by an operator (admin action, ``revoke_api_key``) or with its
owner's removal. Now revoking a key withdraws, in the same transaction, the pending
invitations it sent or last resent, each audited ``member.invitation_revoked`` with a reason
naming the key's revocation; the link is refused (410). Invitations sent from a session stay.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db

FINDER = "finder@elsewhere.test"


def members_url(org: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def _link(mail: Any) -> str:
    found = re.search(r"/invitations/[^/\s]+/", mail.body)
    assert found, mail.body
    return found.group(0)


def _invite(api: Any, org: Any, raw: str | None, email: str, capture: Any, mailoutbox: list[Any]) -> str:
    """Invite ``email`` as a member, through the key ``raw`` (None: the API client's session)."""
    headers = {"HTTP_X_API_KEY": raw} if raw else {}
    mailoutbox.clear()
    with capture(execute=True):
        r = api.post(members_url(org), {"email": email, "role": "member"}, format="json", **headers)
    assert r.status_code in (200, 201), r.content
    assert r.json()["result"] == "invited"
    (mail,) = mailoutbox
    return _link(mail)


def _accept(link: str, email: str) -> int:
    invitee = UserFactory(email=email)  # signs up with that address, verified
    client = Client()
    client.force_login(invitee)
    status = client.post(link).status_code
    if OrgMembership.objects.filter(user=invitee).exists():
        return 200 if status in (200, 302) else status
    return status


def _pending(api: Any, world: dict[str, Any]) -> list[str]:
    api.force_login(world["owner"])
    r = api.get(members_url(world["org1"]))
    api.logout()
    assert r.status_code == 200, r.content
    return [row["email"] for row in r.json()["pending_invitations"]]


def _withdrawals(email: str) -> list[AuditEvent]:
    return [e for e in AuditEvent.objects.filter(action="member.invitation_revoked") if e.changes["email"] == email]


def test_the_attack_a_leaked_keys_invitation_is_refused_once_github_reports_it(
    api: Any, world: dict[str, Any], report_leak: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    org, leaked = world["org1"], world["owner_raw"]
    link = _invite(api, org, leaked, FINDER, django_capture_on_commit_callbacks, mailoutbox)
    assert FINDER in _pending(api, world)

    report_leak(leaked)

    assert _accept(link, FINDER) == 410
    assert not OrgMembership.objects.filter(organization=org, user__email=FINDER).exists()
    assert FINDER not in _pending(api, world)
    (entry,) = _withdrawals(FINDER)
    reason = entry.changes["reason"]
    assert world["owner_key"].public_id in reason and "revoked" in reason and "leaked" in reason, reason
    assert entry.channel == "system"


def test_an_invitation_resent_through_a_leaked_key_is_withdrawn_with_it(
    api: Any, world: dict[str, Any], report_leak: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    org, leaked = world["org1"], world["owner_raw"]
    api.force_login(world["owner"])
    _invite(api, org, None, FINDER, django_capture_on_commit_callbacks, mailoutbox)  # by the owner, signed in
    api.logout()
    (invitation_id,) = [row["id"] for row in _pending_rows(api, world)]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(
            f"/api/v1/organizations/{org.public_id}/invitations/{invitation_id}/resend/", HTTP_X_API_KEY=leaked
        )
    assert r.status_code == 200, r.content
    link = _link(mailoutbox[-1])

    report_leak(leaked)

    assert _accept(link, FINDER) == 410
    assert len(_withdrawals(FINDER)) == 1


def _pending_rows(api: Any, world: dict[str, Any]) -> list[dict[str, Any]]:
    api.force_login(world["owner"])
    r = api.get(members_url(world["org1"]))
    api.logout()
    return list(r.json()["pending_invitations"])


def test_invitations_sent_from_a_session_or_another_key_stay_pending(
    api: Any, world: dict[str, Any], report_leak: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    org = world["org1"]
    _, other_raw = make_key(user=world["owner"], tenant=world["tenant"], org=org, name="provisioning")
    _invite(api, org, other_raw, "by.key@acme.test", django_capture_on_commit_callbacks, mailoutbox)
    api.force_login(world["owner"])
    link = _invite(api, org, None, "by.session@acme.test", django_capture_on_commit_callbacks, mailoutbox)
    api.logout()

    report_leak(world["owner_raw"])

    assert sorted(_pending(api, world)) == ["by.key@acme.test", "by.session@acme.test"]
    assert _accept(link, "by.session@acme.test") == 200


def test_an_invitation_resent_from_a_session_is_no_longer_the_keys(
    api: Any, world: dict[str, Any], report_leak: Any, django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    org = world["org1"]
    _invite(api, org, world["owner_raw"], "colleague@acme.test", django_capture_on_commit_callbacks, mailoutbox)
    (invitation_id,) = [row["id"] for row in _pending_rows(api, world)]
    api.force_login(world["owner"])
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"/api/v1/organizations/{org.public_id}/invitations/{invitation_id}/resend/")
    api.logout()
    assert r.status_code == 200, r.content
    link = _link(mailoutbox[-1])

    report_leak(world["owner_raw"])

    assert _pending(api, world) == ["colleague@acme.test"]
    assert _accept(link, "colleague@acme.test") == 200


def _revoke_by_api(world: dict[str, Any], key: Any, api: Any) -> None:
    api.force_login(world["owner"])  # an owner revokes an admin's key (SPEC §2a)
    r = api.post(f"/api/v1/keys/{key.public_id}/revoke/?organizationId={world['org1'].public_id}")
    api.logout()
    assert r.status_code == 200, r.content


def _revoke_on_key_page(world: dict[str, Any], key: Any, api: Any) -> None:
    client = Client()
    client.force_login(world["owner"])
    url = f"/keys/{key.public_id}/revoke/"
    assert client.get(url).status_code == 200
    r = client.post(url, {"confirm": "on"})
    assert r.status_code == 302, r.content[:500]


def _revoke_in_admin(world: dict[str, Any], key: Any, api: Any) -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    r = client.post("/admin/apikeys/apikey/", {"action": "revoke_keys", "_selected_action": [key.pk]})
    assert r.status_code == 302, r.content[:500]


def _revoke_by_command(world: dict[str, Any], key: Any, api: Any) -> None:
    call_command("revoke_api_key", key.public_id, stdout=io.StringIO())


def _remove_its_owner(world: dict[str, Any], key: Any, api: Any) -> None:
    org_services.org_member_set(organization=world["org1"], user=key.owner, role=None, actor=world["owner"])


@pytest.mark.parametrize(
    "revoke", [_revoke_by_api, _revoke_on_key_page, _revoke_in_admin, _revoke_by_command, _remove_its_owner]
)
def test_every_way_of_revoking_the_key_withdraws_its_invitations(
    api: Any,
    world: dict[str, Any],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: Any,
    revoke: Any,
) -> None:
    settings.TATER_ADMIN_REQUIRES_OTP = False  # the admin's 2FA gate has its own tests
    org = world["org1"]
    # An org admin's key (removing its owner revokes it), another person's than the revoker's.
    key, raw = make_key(user=world["admin"], tenant=world["tenant"], org=org, name="admin's key")
    link = _invite(api, org, raw, FINDER, django_capture_on_commit_callbacks, mailoutbox)

    revoke(world, key, api)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert FINDER not in _pending(api, world)
    assert _accept(link, FINDER) == 410
    (entry,) = _withdrawals(FINDER)
    if revoke is not _remove_its_owner:  # there its owner can no longer grant it either
        assert f"sent through API key {key.public_id}, since revoked" in entry.changes["reason"]


def test_deactivating_the_key_withdraws_nothing(
    api: Any, world: dict[str, Any], django_capture_on_commit_callbacks: Any, mailoutbox: Any
) -> None:
    org = world["org1"]
    key, raw = make_key(user=world["owner"], tenant=world["tenant"], org=org, name="paused")
    _invite(api, org, raw, FINDER, django_capture_on_commit_callbacks, mailoutbox)
    r = api.post(f"/api/v1/keys/{key.public_id}/deactivate/", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    assert _withdrawals(FINDER) == []
