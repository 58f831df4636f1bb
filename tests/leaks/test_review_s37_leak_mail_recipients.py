"""Review s37: who is told when GitHub reports a leaked key (SPEC §14 "its owner is emailed").

Found by review: the mail went to the key's owner whoever they had become. A person
deprovisioned by the identity provider (SCIM ``active: false``: deactivated, roles
suspended) or deactivated by an operator keeps their keys (suspended, not revoked, SPEC §13);
when one of them leaked, the revocation mail told that person, now outside the tenant, the
org's and the key's names and where the secret lies, and told nobody who could still act
(remove it from the public place, replace it). The expiry notices already skip such owners
(tests/security/test_passkeys_leaks_review.py): a departed person's mail is a leak, not a
notice. Now the key is revoked and audited as before, and the mail goes to the tenant's
active owners instead. The same holds for the tenant owners a leaked SCIM token is reported
to: a deactivated one is not mailed.
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import OrgMembership, TenantMembership
from scim.services import tokens as token_services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LEAK_URL = "https://github.com/octo/app/blob/abc123/settings.py"


def deprovision(user: Any, tenant: Any) -> None:
    """What SCIM ``active: false`` does (scim.services.provisioning): the account
    inactive, its roles suspended (its keys are kept, not revoked)."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    for membership in OrgMembership.objects.filter(user=user, organization__tenant=tenant):
        org_services.org_member_set(organization=membership.organization, user=user, role=None, suspended=True)
    if TenantMembership.objects.filter(user=user, tenant=tenant).exists():
        org_services.tenant_member_set(tenant=tenant, user=user, role=None, suspended=True)
    assert not OrgMembership.objects.filter(user=user, organization__tenant=tenant).exists()


@pytest.mark.parametrize("how", ["deprovisioned", "deactivated"])
def test_a_departed_owners_leaked_key_is_reported_to_the_tenant_owners(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
    how: str,
) -> None:
    member, key = world["member"], world["member_key"]
    if how == "deprovisioned":
        deprovision(member, world["tenant"])
    else:  # an operator unticked "active": memberships kept
        member.is_active = False
        member.save(update_fields=["is_active"])

    report_leak(world["member_raw"])

    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoked", target_id=key.public_id)
    assert event.changes["reason"] == "leaked" and event.changes["url"] == LEAK_URL
    assert [m for m in mailoutbox if member.email in m.to] == []
    (mail,) = mailoutbox
    assert mail.to == [world["owner"].email]
    assert key.name in mail.subject and "revoked" in mail.subject
    assert LEAK_URL in mail.body and key.display_prefix in mail.body
    assert member.email in mail.body  # whose key it was
    assert world["member_raw"] not in mail.body


def test_an_active_owner_is_still_the_one_mailed(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    report_leak(world["member_raw"])
    (mail,) = mailoutbox
    assert mail.to == [world["member"].email]
    assert "Your Tater API key" in mail.body


def test_a_deactivated_tenant_owner_is_not_told_of_a_leaked_scim_token(
    api: Any,
    world: dict[str, Any],
    report_leak: Any,
    mailoutbox: list[Any],
) -> None:
    former = UserFactory()
    org_services.tenant_member_set(tenant=world["tenant"], user=former, role="owner")
    former.is_active = False
    former.save(update_fields=["is_active"])
    issued = token_services.scim_token_create(tenant=world["tenant"], name="Entra ID", actor=world["owner"])

    report_leak(issued.secret)

    (mail,) = mailoutbox
    assert mail.to == [world["owner"].email]
