"""Review s45 (SPEC §7, §1): two admins rename the same organization at once (each opened its
settings page while it was still "Finance"). Both renames were saved, one after the other, but
both audit entries said they renamed it from "Finance": the activity log showed two renames of
the same name and never that "Finance EU" was replaced by "Finance Europe", nor who did it. A
rename now reads the name it replaces once it holds the organization, so the log tells each
step; an org admin demoted to member while their rename queued gets a 403, not the rename."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Organization
from tater.exceptions import NotPermitted
from tests.factories import add_member, make_tenant
from tests.races import while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def _pg() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")


def test_two_renames_at_once_are_audited_one_after_the_other() -> None:
    _pg()
    tenant, owner, (org,) = make_tenant(name="Rename race")
    org_services.org_rename(organization=org, name="Finance", actor=owner)
    first_admin, second_admin = add_member(org, "admin"), add_member(org, "admin")
    # Each request loaded the organization before either rename was saved.
    page_one, page_two = Organization.objects.get(pk=org.pk), Organization.objects.get(pk=org.pk)

    errors = while_held(
        # paused with its new name written, its audit entry not yet
        lambda: org_services.org_rename(
            organization=page_one, name="Finance EU", actor=first_admin, enforce_permissions=True
        ),
        lambda: org_services.org_rename(
            organization=page_two, name="Finance Europe", actor=second_admin, enforce_permissions=True
        ),
        pause_in=(org_services, "audit_record"),
        seconds=0.7,
    )

    assert errors == []
    assert Organization.objects.get(pk=org.pk).name == "Finance Europe"
    renames = [
        (e.actor_user, e.changes["name"])
        for e in AuditEvent.objects.filter(organization=org, action="organization.updated").order_by("pk")
    ]
    assert renames[-2:] == [
        (first_admin, {"from": "Finance", "to": "Finance EU"}),
        (second_admin, {"from": "Finance EU", "to": "Finance Europe"}),
    ]


def test_a_rename_queued_behind_the_renamers_demotion_is_refused() -> None:
    _pg()
    tenant, owner, (org,) = make_tenant(name="Rename demotion")
    org_services.org_rename(organization=org, name="Finance", actor=owner)
    admin = add_member(org, "admin")
    page = Organization.objects.get(pk=org.pk)

    errors = while_held(
        # paused with the demotion written, its audit entry not yet
        lambda: org_services.org_member_set(organization=org, user=admin, role="member", actor=owner),
        lambda: org_services.org_rename(organization=page, name="Mine now", actor=admin, enforce_permissions=True),
        pause_in=(org_services, "audit_record"),
        seconds=0.7,
    )

    assert len(errors) == 1 and isinstance(errors[0], NotPermitted), errors
    assert Organization.objects.get(pk=org.pk).name == "Finance"
