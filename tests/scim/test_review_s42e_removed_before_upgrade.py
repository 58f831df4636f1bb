"""Review s42 (E): an admin's removal of a person a mapped group made a member stands (README
"SCIM provisioning", docs/scim.md §5; SPEC §13, §2) for the people provisioned before the
release that decided it too.

The removal is told apart by the membership the groups decided, remembered per User since
that release. Users provisioned before it remember none until their identity provider next
changes their groups: removed by an admin in the meantime (the day after the upgrade, or the
day before it), they were added back by the identity provider's next, unrelated change, as
before the fix. The upgrade remembers, for every User already provisioned, the membership its
groups decided in each org (and, where there is none any more, that it was ended).
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from orgs import members
from orgs.models import OrgMembership
from scim.models import ScimUser
from tests.scim.conftest import provision
from tests.scim.test_lifecycle import group_with

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def ada(acme) -> dict[str, Any]:
    """ada@acme.test, a member of Acme's first org through the mapped group Eng, as a User
    provisioned before the upgrade left her: no decided membership remembered."""
    user_id = provision(acme, "ada@acme.test")["id"]
    group_with(acme, "Eng", user_id, org=acme.orgs[0], role="member")
    user = User.objects.get(email="ada@acme.test")
    ScimUser.objects.filter(public_id=user_id).update(decided_memberships={})
    return {"id": user_id, "user": user}


def upgrade() -> None:
    migration = importlib.import_module("scim.migrations.0004_remember_decided_memberships")
    migration.remember_decided_memberships(apps, None)


def test_a_removal_after_the_upgrade_stands(acme, ada):
    org1, org2 = acme.orgs
    upgrade()
    members.member_remove(organization=org1, user=ada["user"], actor=acme.owner)
    group_with(acme, "Ops", ada["id"], org=org2, role="viewer")  # about another org
    assert not OrgMembership.objects.filter(user=ada["user"], organization=org1).exists()
    assert OrgMembership.objects.filter(user=ada["user"], organization=org2).exists()


def test_a_removal_just_before_the_upgrade_stands(acme, ada):
    org1, org2 = acme.orgs
    members.member_remove(organization=org1, user=ada["user"], actor=acme.owner)
    upgrade()
    group_with(acme, "Ops", ada["id"], org=org2, role="viewer")
    assert not OrgMembership.objects.filter(user=ada["user"], organization=org1).exists()


def test_untouched_memberships_stay_the_groups(acme, ada):
    org1 = acme.orgs[0]
    upgrade()
    group_with(acme, "Ops", ada["id"], org=acme.orgs[1], role="viewer")
    assert OrgMembership.objects.get(user=ada["user"], organization=org1).role == "member"
