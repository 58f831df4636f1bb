"""Review s40 (C): an address an outsider added to their own account (unverified, it is not
their sign-in address) does not stop the tenant that proved the address's domain from
provisioning its owner through SCIM: the directory's userName in a verified domain counts as
verified (SPEC §8), and the unproved hold on it is released, audited on the holder's account
(tests/accounts/test_review_s40_domains.py has the SSO sign-in side)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from scim.models import ScimUser
from tests.factories import UserFactory, make_tenant
from tests.scim.conftest import Directory, new_user, patch_op, provision

pytestmark = pytest.mark.django_db
User = get_user_model()


def _squatted(address: str, *, verified: bool = False) -> Any:
    eve = UserFactory(email="eve@evil.test")
    EmailAddress.objects.create(user=eve, email=address, verified=verified, primary=False)
    return eve


def _released_on(user: Any) -> list[Any]:
    entries = AuditEvent.objects.filter(action="user.email_changed", target_id=str(user.public_id))
    return [entry.changes for entry in entries]


def test_a_new_user_is_provisioned_despite_an_unverified_hold_elsewhere(acme: Directory) -> None:
    eve = _squatted("newhire@acme.test")
    evil, _, _ = make_tenant(name="Evil", owner=eve)
    provision(acme, "newhire@acme.test")
    identity = ScimUser.objects.get(tenant=acme.tenant, user_name_key="newhire@acme.test")
    assert identity.user is not None and identity.user.pk != eve.pk
    assert identity.user.email == "newhire@acme.test"
    assert not EmailAddress.objects.filter(user=eve, email="newhire@acme.test").exists()
    assert {"released": "newhire@acme.test"} in _released_on(eve)
    # In Eve's tenant's log as the system's doing: not Acme's token id, nor the request's IP.
    entry = AuditEvent.objects.get(tenant=evil, action="user.email_changed", changes__released="newhire@acme.test")
    assert (entry.channel, entry.api_key_id, entry.ip, entry.actor_user_id) == ("system", "", None, None)


def test_a_user_renamed_to_a_squatted_address_moves_its_account(acme: Directory) -> None:
    created = provision(acme, "ann@acme.test")
    eve = _squatted("ann.lee@acme.test")
    answer = acme.scim.patch(
        f"/Users/{created['id']}", patch_op({"op": "replace", "path": "userName", "value": "ann.lee@acme.test"})
    )
    assert answer.status_code == 200, answer.content
    assert User.objects.filter(email="ann.lee@acme.test").exclude(pk=eve.pk).exists()
    assert not EmailAddress.objects.filter(user=eve, email="ann.lee@acme.test").exists()


def test_a_hold_proved_by_another_account_still_leaves_the_user_pending(acme: Directory) -> None:
    eve = _squatted("newhire@acme.test", verified=True)
    answer = acme.scim.post("/Users", new_user("newhire@acme.test"))
    assert answer.status_code == 201, answer.content
    assert ScimUser.objects.get(tenant=acme.tenant, user_name_key="newhire@acme.test").user is None
    assert EmailAddress.objects.filter(user=eve, email="newhire@acme.test", verified=True).exists()


def test_an_address_outside_the_verified_domains_is_never_released(acme: Directory) -> None:
    eve = _squatted("friend@freemail.test")
    answer = acme.scim.post("/Users", new_user("friend@freemail.test"))
    assert answer.status_code == 201, answer.content
    assert EmailAddress.objects.filter(user=eve, email="friend@freemail.test").exists()
