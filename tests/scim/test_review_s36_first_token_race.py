"""Review s36 (E): the tenant's first SCIM token and the tenant's other writes queue, never deadlock.

Creating a token locked the tenant row FOR UPDATE (two first tokens must not both seed the
directory) and then wrote its audit entry. A member joining at that moment took the audit chain
and then needed a key-share lock on the tenant row (the foreign-key check of a row it writes),
which FOR UPDATE blocks, while the token waited for the chain: PostgreSQL aborted one ("deadlock
detected": the admin's add failed, or the token). Expectations (docs/scim.md:
the first token lists every member): both finish, and whoever joined is in the directory.
"""

from __future__ import annotations

from typing import Any

import pytest

from orgs import services as org_services
from scim.models import ScimToken, ScimUser
from scim.services import directory
from scim.services import tokens as token_services
from tests.factories import UserFactory, make_tenant
from tests.races import while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _while_the_first_token_holds_the_tenant(token: Any, change: Any) -> list[Exception]:
    """``token`` pauses once it holds the tenant row (before its entry); ``change`` runs meanwhile."""
    return while_held(token, change, pause_in=(directory, "has_directory"), seconds=0.7)


def test_the_first_token_while_a_member_joins() -> None:
    tenant, owner, (org,) = make_tenant(name="Token join race")
    newbie = UserFactory(email="newbie@token.test")

    errors = _while_the_first_token_holds_the_tenant(
        lambda: token_services.scim_token_create(tenant=tenant, name="IdP", actor=owner),
        lambda: org_services.org_member_set(organization=org, user=newbie, role="member", actor=owner),
    )

    assert errors == []
    assert ScimToken.objects.filter(tenant=tenant).count() == 1
    assert ScimUser.objects.filter(tenant=tenant, user=newbie).count() == 1
