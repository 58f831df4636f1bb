"""SPEC §14 (a leaked key is revoked at once, its owner told), §2a (a key's reach) and the leak
mail's "People invited or added with it" (docs/leaked-keys.md): a person added to an org, or
given a role, through a key at the moment GitHub's alert revokes that key. The key was checked
when the request started; the revocation and its mail went through meanwhile, then the member
was written: whoever found the key added their own account (or made an accomplice admin)
through a key already revoked, and the mail that tells the owner whom to check never named
them. Now the change is made under the calling key: the revocation waits for it and its mail
names the person, or, the revocation first, the change is refused and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from leaks.services import LeakReport, leaked_keys_revoke
from orgs import members as member_services
from orgs.models import OrgMembership
from tests.factories import UserFactory, add_member, make_key, make_tenant
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]

# Before the change locks anything (the revocation first), and once it holds what it locks.
PAUSES = {"add": ("account_holding", "org_member_set"), "role": ("as_actor", "org_member_set")}


def _race(settings: Any, change: str, pause: str) -> tuple[Any, Any, list[Any], list[Exception]]:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant, owner, (org,) = make_tenant(name=f"Let in while leaking {change} {pause}", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="ci")
    finder = UserFactory(email=f"finder-{change}-{pause}@elsewhere.test")  # their own verified account
    if change == "role":
        add_member(org, "viewer", user=finder)
    mail.outbox = []
    answers: list[Any] = []
    members = f"/api/v1/organizations/{org.public_id}/members/"
    calls: dict[str, Callable[[], Any]] = {
        "add": lambda: APIClient().post(
            members, {"email": finder.email, "role": "admin"}, format="json", HTTP_X_API_KEY=raw
        ),
        "role": lambda: APIClient().patch(
            f"{members}{finder.public_id}/", {"role": "admin"}, format="json", HTTP_X_API_KEY=raw
        ),
    }
    errors = while_held(
        soon(lambda: answers.append(calls[change]())),
        soon(
            lambda: leaked_keys_revoke(reports=[LeakReport(token=raw, url="https://example.test/x")], found_by="github")
        ),
        pause_in=(member_services, pause),
        seconds=0.7,
    )
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    return org, finder, answers, errors


def _told_or_refused(org: Any, finder: Any, answers: list[Any]) -> None:
    bodies = "\n".join(m.body for m in mail.outbox)
    assert "found in a public place" in bodies
    role = OrgMembership.objects.filter(organization=org, user=finder).values_list("role", flat=True).first()
    if role == "admin":
        # Made under the key: the revocation waited for it, and its mail names them.
        assert answers[0].status_code in (200, 201), answers[0].content
        assert finder.email in bodies, bodies
    else:
        # The revocation first: refused, nothing written.
        assert answers[0].status_code == 403, answers[0].content
        assert answers[0].json()["error"] == "PERMISSION_DENIED"
        assert "revoked meanwhile" in answers[0].json()["message"]


@pytest.mark.parametrize("pause", PAUSES["add"])
def test_a_member_added_as_the_key_leaks_is_named_or_never_added(settings: Any, pause: str) -> None:
    org, finder, answers, errors = _race(settings, "add", pause)
    assert errors == []
    _told_or_refused(org, finder, answers)


@pytest.mark.parametrize("pause", PAUSES["role"])
def test_a_role_given_as_the_key_leaks_is_named_or_never_given(settings: Any, pause: str) -> None:
    org, finder, answers, errors = _race(settings, "role", pause)
    assert errors == []
    _told_or_refused(org, finder, answers)
