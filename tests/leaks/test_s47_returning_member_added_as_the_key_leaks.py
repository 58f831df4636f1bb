"""SPEC §14 (revoked at once), §13 (deprovisioned, keys kept for a return): a person the directory deprovisioned (keys kept, SCIM active=false) added back
through an API key at the moment GitHub's alert revokes that key.

``orgs.members._granting_through_key`` sends ``member_join_ahead`` first; for a returning person
it revokes their kept keys (``scim.services.returns`` -> ``keys_revoke_unreached``), which
writes ``api_key.revoked`` entries and so holds the tenant's audit-chain head, and only then
locks the tenant row, the caller's roles and the calling key. The leak's revocation locks the
key first, then its invitations, then the audit chain: each waits on the other (deadlock).
Expectation (docs/authorization.md "Lock order", SPEC §14): one waits for the other; no error."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from leaks.services import LeakReport, leaked_keys_revoke
from orgs import members as member_services
from orgs.models import OrgMembership
from scim.models import ScimUser
from tests.factories import UserFactory, add_member, make_key
from tests.races import soon, while_held
from tests.scim.conftest import make_directory
from tests.scim.test_lifecycle import deactivate

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("pause", ["account_holding", "as_actor_locked"])
def test_returning_member_added_through_a_key_as_it_leaks_neither_fails(settings: Any, pause: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    d = make_directory(f"Acme returning {pause}", f"acme-ret-{pause.replace('_', '-')}.test")
    org = d.orgs[0]
    key, raw = make_key(user=d.owner, tenant=d.tenant, org=org, name="ci")
    bob = add_member(org, "member", UserFactory(email=f"bob-ret-{pause}@freemail.test"))
    make_key(user=bob, tenant=d.tenant, org=org, name="bob's old key")
    bob_id = ScimUser.objects.get(tenant=d.tenant, user=bob).public_id
    assert deactivate(d, bob_id).status_code == 200  # roles gone, bob's key kept for a return

    answers: list[Any] = []
    members = f"/api/v1/organizations/{org.public_id}/members/"
    errors = while_held(
        soon(
            lambda: answers.append(
                APIClient().post(members, {"email": bob.email, "role": "member"}, format="json", HTTP_X_API_KEY=raw)
            )
        ),
        soon(
            lambda: leaked_keys_revoke(reports=[LeakReport(token=raw, url="https://example.test/x")], found_by="github")
        ),
        # Before the add locks anything (the revocation first), or once bob's kept keys are revoked.
        pause_in=(member_services, pause),
        seconds=0.7,
    )
    assert errors == [], errors
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    bodies = "\n".join(m.body for m in mail.outbox)
    if answers[0].status_code == 201:  # made under the key: the revocation waited, its mail names bob
        assert bob.email in bodies, bodies
    else:  # the revocation first: refused, bob not back
        assert answers[0].status_code == 403, answers[0].content
        assert not OrgMembership.objects.filter(organization=org, user=bob).exists()
