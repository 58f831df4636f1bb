"""SPEC §2 (effective permissions = key scopes ∩ the owner's current role, evaluated on every
request: demoting the owner narrows the key) and §1 (only org admins manage members): an org
admin's key adds someone to the org while a tenant owner demotes that admin to member. The key
check passed before the demotion; the add then re-read the caller's roles under lock, but only
the role-grant check used them, and a member may "grant" member: the person was added through
the key of someone who no longer manages members. Now the right to manage members is judged
again on the roles read under lock: the add waits for the demotion and is refused (403), or,
made first, the demotion follows it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orgs import members as member_services
from orgs.models import OrgMembership
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("pause", ["account_holding", "org_member_set"])
def test_an_add_racing_the_adders_demotion_never_lands_after_it(pause: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    tenant, owner, (org,) = make_tenant(name=f"Demoted while adding {pause}", orgs=1)
    adder = add_member(org, "admin")
    _, raw = make_key(user=adder, tenant=tenant, org=org, name="members")
    newcomer = UserFactory(email=f"newcomer-{pause}@elsewhere.test")  # verified: added directly
    answers: list[Any] = []

    errors = while_held(
        soon(
            lambda: answers.append(
                APIClient().post(
                    f"/api/v1/organizations/{org.public_id}/members/",
                    {"email": newcomer.email, "role": "member"},
                    format="json",
                    HTTP_X_API_KEY=raw,
                )
            )
        ),
        soon(lambda: member_services.member_update(organization=org, user=adder, role="member", actor=owner)),
        pause_in=(member_services, pause),
        seconds=0.7,
    )

    assert errors == []
    assert OrgMembership.objects.get(organization=org, user=adder).role == "member"
    added = OrgMembership.objects.filter(organization=org, user=newcomer).exists()
    if pause == "account_holding":  # the demotion committed before the add locked anything
        assert answers[0].status_code == 403, answers[0].content
        assert not added
    else:  # the add held its locks first: it lands, then the demotion
        assert answers[0].status_code == 201, answers[0].content
        assert added
