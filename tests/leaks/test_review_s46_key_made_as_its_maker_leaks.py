"""SPEC §14 (a leaked key is revoked at once, its owner told) and the leak mail's "Keys created
or rotated with it, which still work": a key being created through a key at the moment
GitHub's alert revokes that key. The caller was checked when the request started; the
revocation and its mail went through meanwhile, then the new key was written: the finder kept
a working key the mail never named. Now a key is created under the calling key: the revocation
waits for it and its mail names it, or, the revocation first, nothing is created."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.db import connection
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys.models import ApiKey
from leaks.services import LeakReport, leaked_keys_revoke
from tests.factories import make_key, make_tenant
from tests.races import soon, while_held

pytestmark = [pytest.mark.realservices, pytest.mark.django_db(transaction=True)]


def test_a_key_made_as_its_maker_is_reported_leaked_is_named_in_the_mail(settings: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    tenant, owner, (org,) = make_tenant(name="Made while leaking", orgs=1)
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="ci")
    mail.outbox = []

    errors = while_held(
        # paused once the calling key was checked, the new key still to write
        soon(
            lambda: APIClient().post(
                "/api/v1/keys/", {"name": "spare-of-the-finder"}, format="json", HTTP_X_API_KEY=raw
            )
        ),
        soon(
            lambda: leaked_keys_revoke(reports=[LeakReport(token=raw, url="https://example.test/x")], found_by="github")
        ),
        pause_in=(key_services, "as_actor_locked"),
        seconds=0.7,
    )

    assert errors == []
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    survivors = ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).exclude(pk=key.pk)
    bodies = "\n".join(m.body for m in mail.outbox)
    assert "found in a public place" in bodies
    for made in survivors:
        assert made.name in bodies, bodies
