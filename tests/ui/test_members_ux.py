"""Members, invitations, the shell and the outbox as people meet them (Django test client):
re-inviting asks first, invitations can be resent (new link, shown once) and revoked with
audit entries, demotions are confirmed, viewers do not see invitees; one-org users get no
switcher; the tenant outbox shows the tenant's own mail only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse

from audit.models import AuditEvent
from orgs.models import Invitation, OrgMembership
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"http://testserver/invitations/[A-Za-z0-9_-]+/")
OUTBOX = "outbox.backends.OutboxMailBackend"


def _invite(client: Any, email: str, role: str, **extra: str) -> Any:
    return client.post(reverse("members"), {"invite-email": email, "invite-role": role, **extra})


def _pending(world: dict[str, Any], email: str) -> list[Invitation]:
    return list(Invitation.objects.filter(organization=world["org1"], email=email, accepted_at=None, revoked_at=None))


# --- Invitations -----------------------------------------------------------------------------------


def test_invite_shows_the_link_once_and_reinviting_asks_first(
    world: dict[str, Any], client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(world["admin"])
    with django_capture_on_commit_callbacks(execute=True):
        sent = _invite(client, "new@example.com", "viewer")
    assert sent.status_code == 200 and "no-store" in sent["Cache-Control"]
    link = LINK_RE.search(sent.content.decode()).group(0)
    assert link in mail.outbox[-1].body  # the same link as the email
    assert "Copy link" in sent.content.decode()
    assert link not in client.get(reverse("members")).content.decode()
    # The same address again: nothing is replaced until the admin chooses.
    again = _invite(client, "NEW@example.com", "member")
    body = again.content.decode()
    assert again.status_code == 200 and "already has a pending invitation as viewer" in body
    assert "Replace it: invite as member" in body and "Resend it as viewer" in body
    (pending,) = _pending(world, "new@example.com")
    assert pending.role == "viewer"
    # Choosing to replace it.
    replaced = _invite(client, "new@example.com", "member", **{"invite-replace": "on"})
    assert replaced.status_code == 200
    (pending,) = _pending(world, "new@example.com")
    assert pending.role == "member"


def test_resend_issues_a_new_link_and_revoke_withdraws(
    world: dict[str, Any], client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(world["admin"])
    first_link = LINK_RE.search(_invite(client, "late@example.com", "viewer").content.decode()).group(0)
    (invitation,) = _pending(world, "late@example.com")
    page = client.get(reverse("members")).content.decode()
    assert reverse("invitation_resend", args=[invitation.public_id]) in page
    assert reverse("invitation_revoke", args=[invitation.public_id]) in page
    with django_capture_on_commit_callbacks(execute=True):
        resent = client.post(reverse("invitation_resend", args=[invitation.public_id]))
    assert resent.status_code == 200 and "Invitation sent again" in resent.content.decode()
    new_link = LINK_RE.search(resent.content.decode()).group(0)
    assert new_link != first_link and new_link in mail.outbox[-1].body
    event = AuditEvent.objects.get(action="member.invitation_resent", target_id=invitation.public_id)
    assert event.channel == "ui" and event.actor_user_id == world["admin"].pk
    # The old link no longer works, the new one does (for the invited address).
    invitee = UserFactory(email="late@example.com")
    invitee_client = client_for(invitee)
    assert invitee_client.get(first_link.replace("http://testserver", "")).status_code == 404
    assert invitee_client.get(new_link.replace("http://testserver", "")).status_code == 200
    # Revoke: the link stops working, audited.
    revoked = client.post(reverse("invitation_revoke", args=[invitation.public_id]), follow=True)
    assert any("was revoked" in str(m) for m in revoked.context["messages"])
    assert invitee_client.get(new_link.replace("http://testserver", "")).status_code == 410
    assert AuditEvent.objects.filter(action="member.invitation_revoked", target_id=invitation.public_id).exists()
    # Gone now: a second revoke or resend changes nothing and says so (review s38; it was a 404 page).
    sent = len(mail.outbox)
    for name in ("invitation_revoke", "invitation_resend"):
        again = client.post(reverse(name, args=[invitation.public_id]), follow=True)
        assert any("already revoked" in str(m) for m in again.context["messages"])
    assert len(mail.outbox) == sent


def test_invitation_actions_need_members_write_and_the_org(world: dict[str, Any], client_for: Any) -> None:
    client_for(world["admin"]).post(reverse("members"), {"invite-email": "x@example.com", "invite-role": "viewer"})
    (invitation,) = _pending(world, "x@example.com")
    for who in ("viewer", "member"):
        for name in ("invitation_resend", "invitation_revoke"):
            assert client_for(world[who]).post(reverse(name, args=[invitation.public_id])).status_code == 403
    # The other tenant's owner: not their org's invitation, a 404.
    other = client_for(world["other_owner"])
    assert other.post(reverse("invitation_revoke", args=[invitation.public_id])).status_code == 404
    assert _pending(world, "x@example.com")


def test_only_member_managers_see_invitees(world: dict[str, Any], client_for: Any) -> None:
    client_for(world["admin"]).post(reverse("members"), {"invite-email": "secret@example.com", "invite-role": "viewer"})
    assert "secret@example.com" in client_for(world["admin"]).get(reverse("members")).content.decode()
    for who in ("viewer", "member"):
        page = client_for(world[who]).get(reverse("members")).content.decode()
        assert "secret@example.com" not in page and "Pending invitations" not in page


# --- Demotions ---------------------------------------------------------------------------------------


def test_demotion_asks_for_confirmation(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    admin = world["admin"]
    asked = client.post(reverse("member_role", args=[admin.pk]), {f"m{admin.pk}-role": "viewer"})
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "from admin to viewer" in body and f'name="m{admin.pk}-confirm" value="on"' in body
    assert OrgMembership.objects.get(organization=world["org1"], user=admin).role == "admin"
    confirmed = client.post(
        reverse("member_role", args=[admin.pk]), {f"m{admin.pk}-role": "viewer", f"m{admin.pk}-confirm": "on"}
    )
    assert confirmed.status_code == 302
    assert OrgMembership.objects.get(organization=world["org1"], user=admin).role == "viewer"
    # A promotion applies at once.
    up = client.post(reverse("member_role", args=[admin.pk]), {f"m{admin.pk}-role": "member"})
    assert up.status_code == 302
    assert OrgMembership.objects.get(organization=world["org1"], user=admin).role == "member"
    # Dropping a tenant role is a demotion too.
    client.post(reverse("member_tenant_role", args=[admin.pk]), {f"t{admin.pk}-tenant_role": "admin"})
    asked = client.post(reverse("member_tenant_role", args=[admin.pk]), {f"t{admin.pk}-tenant_role": "none"})
    assert asked.status_code == 200 and "from Tenant admin to No tenant role" in asked.content.decode()


# --- Shell ---------------------------------------------------------------------------------------------


def test_one_org_users_get_no_switcher(world: dict[str, Any], client_for: Any) -> None:
    viewer_page = client_for(world["viewer"]).get(reverse("dashboard")).content.decode()
    assert 'class="org-menu"' not in viewer_page and reverse("org_switch") not in viewer_page
    assert re.search(r'class="org-name">.*Acme Org 1', viewer_page, re.S)
    owner_page = client_for(world["owner"]).get(reverse("dashboard")).content.decode()
    assert 'class="org-menu"' in owner_page and "<select" not in owner_page.split("</header>")[0]


def test_viewers_are_not_told_to_generate_keys(world: dict[str, Any], client_for: Any) -> None:
    viewer = client_for(world["viewer"])
    dashboard = viewer.get(reverse("dashboard")).content.decode()
    assert "Generate" not in dashboard and "Your active API keys" in dashboard
    listing = viewer.get(reverse("apikey_list")).content.decode()
    assert "Generate" not in listing and "You have no API keys here" in listing
    owner_dashboard = client_for(world["owner"]).get(reverse("dashboard")).content.decode()
    assert ">Active API keys<" in owner_dashboard and "Generate API key" in owner_dashboard


# --- Outbox ----------------------------------------------------------------------------------------------


@override_settings(EMAIL_BACKEND=OUTBOX)
def test_outbox_keeps_the_tenants_invitations_for_its_owners(
    world: dict[str, Any], client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _invite(client_for(world["admin"]), "guest@example.com", "viewer")
    # Another tenant's invitation goes to that tenant's outbox only.
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world["other_owner"]).post(
            reverse("members"), {"invite-email": "globex-guest@example.com", "invite-role": "viewer"}
        )
    owner = client_for(world["owner"])
    listing = owner.get(reverse("tenant_outbox"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "guest@example.com" in body and "globex-guest@example.com" not in body
    from outbox.models import OutboxMessage

    ours = OutboxMessage.objects.get(to=["guest@example.com"])
    theirs = OutboxMessage.objects.get(to=["globex-guest@example.com"])
    detail = owner.get(reverse("tenant_outbox_message", args=[ours.public_id]))
    assert detail.status_code == 200 and LINK_RE.search(detail.content.decode())
    assert owner.get(reverse("tenant_outbox_message", args=[theirs.public_id])).status_code == 404
    # Tenant owners only.
    for who in ("admin", "member", "viewer"):
        assert client_for(world[who]).get(reverse("tenant_outbox")).status_code == 403


@override_settings(EMAIL_BACKEND=OUTBOX)
def test_account_mail_is_never_kept_for_a_tenant(world: dict[str, Any], client: Any) -> None:
    # A password reset to a tenant member must not land where the tenant owner can read it.
    from outbox.models import OutboxMessage

    response = client.post("/accounts/password/reset/", {"email": world["member"].email})
    assert response.status_code == 302
    assert not OutboxMessage.objects.exists()


@override_settings(EMAIL_BACKEND=OUTBOX)
def test_empty_outbox_says_what_will_appear(client_for: Any) -> None:
    _, owner, _ = make_tenant(name="Solo", orgs=1)
    page = client_for(owner).get(reverse("tenant_outbox")).content.decode()
    assert "No mail yet" in page and "EMAIL_HOST" in page


def test_dashboard_suggests_two_factor_until_enrolled(world: dict[str, Any], client_for: Any) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert "Set up two-factor authentication" in client_for(world["member"]).get(reverse("dashboard")).content.decode()
    TOTPDevice.objects.create(user=world["member"], name="phone", confirmed=True)
    client = client_for(world["member"])
    response = client.get(reverse("dashboard"), follow=True)
    assert "Set up two-factor authentication" not in response.content.decode()


def test_sign_in_page_has_one_reset_link_and_one_primary_button(client: Any) -> None:
    page = client.get(reverse("account_login")).content.decode()
    assert page.count("Forgot your password?") == 1
    assert page.count('class="primary"') == 1
    assert re.search(r'<button type="submit" name="sso" value="1" class="secondary"', page)
