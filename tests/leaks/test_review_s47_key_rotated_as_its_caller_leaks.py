"""SPEC §14 (a leaked key is revoked at once, its owner told), §2a (secrets go only to owners; a
key's reach) and the leak mail's "Keys created or rotated with it, which still work"
(docs/leaked-keys.md): another key of the owner rotated through a key at the moment GitHub's
alert revokes that key. The calling key was checked when the request started; the revocation
and its mail went through meanwhile, then the rotation was written: the finder received a new
working secret for a key the mail never named. Now a key is rotated under the calling key: the
revocation waits for it and its mail names the rotated key, or, the revocation first, nothing is
rotated (403). Taken with the rotated key in key order, as a sweep of the owner's keys takes them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from apikeys import narrowing
from apikeys import services as key_services
from apikeys.models import ApiKey
from leaks.services import LeakReport, leaked_keys_revoke
from orgs import members as member_services
from tests.factories import add_member, make_key, make_tenant
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]

# Before the rotation locks anything (the revocation first), and once it holds the keys.
PAUSES = [(key_services, "as_actor"), (narrowing, "require_rotatable_through")]


@pytest.mark.parametrize("made_first", [True, False], ids=["sibling-older", "sibling-newer"])
@pytest.mark.parametrize("pause", PAUSES, ids=[name for _, name in PAUSES])
def test_a_key_rotated_as_its_caller_leaks_is_named_or_never_rotated(
    settings: Any, pause: tuple[Any, str], made_first: bool
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant, owner, (org,) = make_tenant(name=f"Rotated while leaking {pause[1]} {made_first}", orgs=1)
    if made_first:
        sibling, _ = make_key(user=owner, tenant=tenant, org=org, name="billing-sync")
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="ci")
    if not made_first:
        sibling, _ = make_key(user=owner, tenant=tenant, org=org, name="billing-sync")
    secret_before = ApiKey.objects.get(pk=sibling.pk).display_prefix
    mail.outbox = []
    answers: list[Any] = []

    errors = while_held(
        soon(
            lambda: answers.append(
                APIClient().post(
                    f"/api/v1/keys/{sibling.public_id}/rotate/",
                    {"grace_period_seconds": 0},
                    format="json",
                    HTTP_X_API_KEY=raw,
                )
            )
        ),
        soon(
            lambda: leaked_keys_revoke(reports=[LeakReport(token=raw, url="https://example.test/x")], found_by="github")
        ),
        pause_in=pause,
        seconds=0.7,
    )

    assert errors == []
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    bodies = "\n".join(m.body for m in mail.outbox)
    assert "found in a public place" in bodies
    if answers[0].status_code == 200:
        # Rotated under the key: the revocation waited, and its mail names the rotated key.
        assert "billing-sync" in bodies, bodies
    else:
        # The revocation first: refused, the sibling's secret as it was.
        assert answers[0].status_code == 403, answers[0].content
        assert "revoked meanwhile" in answers[0].json()["message"]
        assert ApiKey.objects.get(pk=sibling.pk).display_prefix == secret_before


def test_a_key_rotated_through_another_as_its_owner_is_removed_does_not_deadlock() -> None:
    """The owner's removal sweeps their keys in key order; a rotation through one of them takes
    the two it touches in the same order, whichever is older."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    tenant, owner, (org,) = make_tenant(name="Rotated while removed", orgs=1)
    person = add_member(org, "admin")
    sibling, _ = make_key(user=person, tenant=tenant, org=org, name="older")
    key, raw = make_key(user=person, tenant=tenant, org=org, name="newer")
    answers: list[Any] = []

    errors = while_held(
        soon(
            lambda: answers.append(
                APIClient().post(f"/api/v1/keys/{sibling.public_id}/rotate/", {}, format="json", HTTP_X_API_KEY=raw)
            )
        ),
        soon(lambda: member_services.member_remove(organization=org, user=person, actor=owner)),
        pause_in=(narrowing, "require_rotatable_through"),
        seconds=0.7,
    )

    assert errors == []
    assert answers[0].status_code in (200, 403), answers[0].content
    assert not ApiKey.objects.filter(owner=person, revoked_at__isnull=True).exists()
