"""Keys created while their creator is being removed, or while the tenant's maximum key
lifetime is being set, on PostgreSQL (each thread its own connection).

Removing a member revokes the keys they no longer reach, and a new maximum lifetime caps
the keys already issued (both sweep the tenant's keys inside the change's transaction). A
key created by a request running at the same moment read the creator's roles and the
tenant's policy from before the change and committed after the sweep: it outlived the
removal (and revived with a re-add) or the cap. Key creation now queues behind both.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apikeys.models import ApiKey
from apikeys.services import apikey_create
from orgs import services as org_services
from orgs.selectors import actor_for
from tests.factories import add_member, make_tenant

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _create_while(change: Callable[[], None], create: Callable[[], Any]) -> None:
    """``create`` starts while ``change`` holds its transaction open (after its sweep),
    and is given a second to get ahead of the commit."""
    changed, errors = threading.Event(), []

    def changing() -> None:
        try:
            with transaction.atomic():
                change()
                changed.set()
                creator.join(timeout=1.0)  # finishes first, unless it waits on our locks
        finally:
            changed.set()
            connection.close()

    def creating() -> None:
        changed.wait(timeout=30)
        try:
            create()
        except Exception as exc:  # a refusal is a correct outcome
            errors.append(exc)
        finally:
            connection.close()

    creator = threading.Thread(target=creating)
    changer = threading.Thread(target=changing)
    creator.start()
    changer.start()
    changer.join(timeout=60)
    creator.join(timeout=60)


@pytest.mark.parametrize("request_started_before", [False, True], ids=["service call", "request"])
def test_a_key_created_during_its_creators_removal_does_not_survive_it(request_started_before: bool) -> None:
    tenant, owner, (org,) = make_tenant(name="Race")
    bob = add_member(org, "admin")
    # A request reads its caller's roles when it starts (orgs.selectors.actor_for_access).
    creator = actor_for(user=bob, tenant=tenant) if request_started_before else bob

    _create_while(
        lambda: org_services.org_member_set(organization=org, user=bob, role=None, actor=owner),
        lambda: apikey_create(creator=creator, tenant=tenant, organization=org, name="late"),
    )

    assert not ApiKey.objects.filter(owner=bob, revoked_at__isnull=True).exists()
    org_services.org_member_set(organization=org, user=bob, role="admin", actor=owner)
    assert not ApiKey.objects.filter(owner=bob, revoked_at__isnull=True).exists()


def test_a_key_created_while_a_maximum_lifetime_is_set_is_capped_by_it() -> None:
    tenant, owner, (org,) = make_tenant(name="Cap")

    _create_while(
        lambda: org_services.tenant_update(tenant=tenant, actor=owner, max_key_lifetime_days=30),
        lambda: apikey_create(creator=owner, tenant=tenant, organization=org, name="late"),
    )

    limit = timezone.now() + timedelta(days=30, minutes=5)
    for key in ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True):
        assert key.expires_at is not None and key.expires_at <= limit, key.expires_at
