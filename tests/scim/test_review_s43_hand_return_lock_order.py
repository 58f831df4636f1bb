"""Review s43 (F): the hand re-add that revokes the keys a directory kept for a deprovisioned
person's return (tests/scim/test_review_s43_hand_return_keys.py) queues with the other writers
of that person and of those keys, never deadlocks.

Revoking a key writes an audit entry; a join holds the audit chain once its membership entry is
written. Done after the join (a ``member_joined`` receiver), the revocation took the person's
User and keys after the chain: a key change in flight (an owner revoking the key: the key, then
the chain) or the identity provider reprovisioning the person (their User, then the tenant,
memberships and keys, then the chain) deadlocked with it. The lock order (README; ``scim.
services.provisioning.operator_write_ahead``): the person's SCIM Users, the account, its
sign-out rows, then the tenant, memberships and keys, then the audit chain. Expectations (SPEC
§2, §12, §13): both calls finish; the kept key ends revoked; bob is a member again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys.models import ApiKey
from orgs import services as org_services
from orgs import signals as org_signals
from orgs.models import OrgMembership
from scim.models import ScimUser
from tests.factories import UserFactory, add_member, make_key
from tests.races import soon, while_held
from tests.scim.conftest import Directory, make_directory
from tests.scim.test_lifecycle import group_with
from tests.scim.test_review_s42f_operator_active_lock_order import _idp_sets_active

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
User = get_user_model()


def _deprovisioned_bob(name: str) -> tuple[Directory, str, Any, ApiKey]:
    """bob@freemail.test, a guest of the tenant, deprovisioned: his key bound to its first org
    kept, refused, for his return; a group of the directory gives him its second org."""
    d = make_directory(name, "race.test", orgs=2)
    bob = add_member(d.orgs[0], "member", UserFactory(email="bob@freemail.test"))
    key, _ = make_key(user=bob, tenant=d.tenant, org=d.orgs[0], name="bob's key")
    bob_id = ScimUser.objects.get(tenant=d.tenant, user=bob).public_id
    group_with(d, "Ops", bob_id, org=d.orgs[1], role="viewer")
    idp: list[Any] = []
    _idp_sets_active(d, bob_id, False, idp)()
    assert [r.status_code for r in idp] == [200]
    return d, bob_id, bob, key


def _admin_adds_back(d: Directory, bob: Any, answers: list[Any]) -> Callable[[], Any]:
    api = APIClient()
    api.force_login(d.owner)
    path = f"/api/v1/organizations/{d.orgs[0].public_id}/members/"
    return soon(lambda: answers.append(api.post(path, {"email": bob.email, "role": "member"}, format="json")))


def _member_again_without_the_key(d: Directory, bob: Any, key: ApiKey) -> None:
    assert OrgMembership.objects.filter(organization=d.orgs[0], user=bob).exists()
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.parametrize("first", ["admin", "owner"])
def test_hand_re_add_while_the_owner_revokes_the_kept_key_does_not_deadlock(first: str) -> None:
    d, _, bob, key = _deprovisioned_bob(f"Revoke {first}")
    added: list[Any] = []
    owner_revokes = soon(lambda: key_services.apikey_revoke(api_key=key, actor=d.owner))

    if first == "admin":
        # The re-add pauses once its membership and entry are written (the chain held).
        errors = while_held(
            _admin_adds_back(d, bob, added), owner_revokes, pause_in=(org_signals.member_joined, "send")
        )
    else:
        # The owner's revocation pauses once it holds the key (about to write its entry).
        errors = while_held(owner_revokes, _admin_adds_back(d, bob, added), pause_in=(key_services, "_audit_key"))

    assert errors == []
    assert [r.status_code for r in added] == [201], [r.content for r in added]
    _member_again_without_the_key(d, bob, key)


@pytest.mark.parametrize("first", ["admin", "idp"])
def test_hand_re_add_while_the_idp_reprovisions_does_not_deadlock(first: str) -> None:
    d, bob_id, bob, key = _deprovisioned_bob(f"Return {first}")
    added: list[Any] = []
    idp: list[Any] = []
    reprovision = _idp_sets_active(d, bob_id, True, idp)

    if first == "admin":
        errors = while_held(_admin_adds_back(d, bob, added), reprovision, pause_in=(org_signals.member_joined, "send"))
    else:
        # The directory pauses once it holds the User, memberships and keys (about to give the
        # group's role back).
        errors = while_held(reprovision, _admin_adds_back(d, bob, added), pause_in=(org_services, "org_member_set"))

    assert errors == []
    assert [r.status_code for r in idp] == [200], [r.content for r in idp]
    assert [r.status_code for r in added] == [201], [r.content for r in added]
    _member_again_without_the_key(d, bob, key)
    assert OrgMembership.objects.get(organization=d.orgs[1], user=bob).role == "viewer"
