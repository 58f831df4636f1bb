"""Review s43 (F): an admin adds a person to another organization by hand at the very moment the
tenant's directory deprovisions them (``active: false``).

The deprovisioning reads the person's roles, then ends them one by one; the hand add, which did
not wait for the directory's change of that person, wrote a membership the deprovisioning had
not read: the person came out of it deprovisioned yet a member (signing in, making keys), and
with the roles the directory remembered still noted, a later hand re-add of the org their old
key is bound to revived that key. Expectations (SPEC §2, §12, §13): the two queue on the
person's User, so the result is one of the two orders: added first, the deprovisioning ends that
membership too; deprovisioned first, the add is a return by hand (the kept key is revoked, the
remembered roles forgotten: tests/scim/test_review_s43_hand_return_keys.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress

from orgs import members
from orgs import services as org_services
from orgs import signals as org_signals
from orgs.models import OrgMembership
from scim.models import ScimUser
from tests.factories import UserFactory, add_member, make_key
from tests.races import soon, while_held
from tests.scim.conftest import make_directory
from tests.scim.test_review_s42f_operator_active_lock_order import _idp_sets_active
from tests.scim.test_review_s43_hand_return_keys import _kept
from tests.scim.test_review_s43_hand_return_lock_order import _admin_adds_back

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


@pytest.mark.parametrize("first", ["idp", "admin"])
def test_a_hand_add_during_deprovisioning_is_before_or_after_it(first: str) -> None:
    d = make_directory(f"Meanwhile {first}", "race.test", orgs=2)
    bob = add_member(d.orgs[1], "member", UserFactory(email="bob@freemail.test"))
    key, _ = make_key(user=bob, tenant=d.tenant, org=d.orgs[1], name="bob's key")
    bob_id = ScimUser.objects.get(tenant=d.tenant, user=bob).public_id
    idp: list[Any] = []
    added: list[Any] = []
    deprovision, add = _idp_sets_active(d, bob_id, False, idp), _admin_adds_back(d, bob, added)

    if first == "idp":
        # The directory pauses once it holds the User (about to end bob's membership).
        errors = while_held(deprovision, add, pause_in=(org_services, "org_member_set"))
    else:
        # The add pauses once its membership and entry are written.
        errors = while_held(add, deprovision, pause_in=(org_signals.member_joined, "send"))

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in added] == [201], [r.content for r in added]
    identity = ScimUser.objects.get(public_id=bob_id)
    assert identity.active is False
    key.refresh_from_db()
    if first == "idp":  # a return by hand after the deprovisioning
        assert list(OrgMembership.objects.filter(user=bob).values_list("organization", flat=True)) == [d.orgs[0].pk]
        assert key.revoked_at is not None
        assert identity.suspended_roles == {}
    else:  # the deprovisioning ended the new membership too, and kept the key for bob's return
        assert not OrgMembership.objects.filter(user=bob).exists()
        assert key.revoked_at is None
        assert identity.suspended_roles


@pytest.mark.parametrize("first", ["idp", "person"])
def test_an_invitation_accepted_during_deprovisioning_is_before_or_after_it(first: str) -> None:
    """The invitation's row was locked before the person's User: the deprovisioning, holding the
    User and about to withdraw that invitation, deadlocked with the acceptance."""
    d = make_directory(f"Invited {first}", "race.test", orgs=2)
    bob = add_member(d.orgs[1], "member", UserFactory(email="bob@freemail.test"))
    bob_id = ScimUser.objects.get(tenant=d.tenant, user=bob).public_id
    tokens: list[str] = []
    members.member_add_by_email(
        organization=d.orgs[0], email="bob.alt@freemail.test", role="member", actor=d.owner, accept_url=_kept(tokens)
    )
    EmailAddress.objects.create(user=bob, email="bob.alt@freemail.test", verified=True)
    idp: list[Any] = []
    accepted: list[Any] = []

    def accept() -> None:
        try:
            accepted.append(members.invitation_accept(token=tokens[0], user=bob))
        except members.InvitationError as exc:  # withdrawn by the deprovisioning that came first
            accepted.append(exc)

    deprovision, acceptance = _idp_sets_active(d, bob_id, False, idp), soon(accept)
    if first == "idp":
        errors = while_held(deprovision, acceptance, pause_in=(org_services, "org_member_set"))
    else:
        errors = while_held(acceptance, deprovision, pause_in=(org_signals.member_joined, "send"))

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert len(accepted) == 1
    assert isinstance(accepted[0], members.InvitationError) == (first == "idp")
    assert not OrgMembership.objects.filter(user=bob).exists()
