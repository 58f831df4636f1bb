"""Review of the s35 changes, on PostgreSQL (each thread its own connection, committed).

PostgreSQL answers a lock cycle by aborting one transaction ("deadlock detected"): a call
that fails (a 500) for no fault of its caller. Expectations: both calls finish, or one is
refused for a reason the SPEC gives; one may wait for the other.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from django.db import connection, transaction

from accounts import services as account_services
from apikeys import services as key_services
from orgs import services as org_services
from tater.exceptions import NotPermitted, ObjectNotFound
from tests.factories import add_member, make_tenant

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")


def test_an_operator_deleting_an_account_while_it_creates_a_key_does_not_deadlock() -> None:
    # Key creation now locks the tenant row, then the creator's memberships; the account
    # deletion ended the org memberships before the tenant role (which locks the tenant row).
    tenant, owner, (org,) = make_tenant(name="Deletion race")
    bob = add_member(org, "admin")
    org_services.tenant_member_set(tenant=tenant, user=bob, role="admin", actor=owner)
    errors: list[Exception] = []
    removed_from_org = threading.Event()
    original = org_services.org_member_set

    def held_org_member_set(**kwargs: Any) -> Any:
        result = original(**kwargs)
        if threading.current_thread().name == "deletion":
            removed_from_org.set()
            time.sleep(0.5)
        return result

    def deleting() -> None:
        try:
            with transaction.atomic():
                account_services.user_deleted_by_operator(user=bob)
        except Exception as exc:
            errors.append(exc)
        finally:
            removed_from_org.set()
            connection.close()

    def creating() -> None:
        removed_from_org.wait(timeout=30)
        try:
            key_services.apikey_create(creator=bob, tenant=tenant, organization=org, name="late")
        except (NotPermitted, ObjectNotFound):
            pass  # refused once the deletion committed: a correct outcome
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deleting, name="deletion"), threading.Thread(target=creating)]
    with mock.patch.object(org_services, "org_member_set", held_org_member_set):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
