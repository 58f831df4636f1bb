"""Review s43: the New organization form sent twice (a double click on "Create organization",
or Back to the filled-in form and Create again) made two organizations of the same name, each
with its own audit entry, and the switcher then listed "Customer A" twice with nothing to tell
them apart. Like the key forms, the form now carries a one-off token: the second post creates
nothing and says the organization was already created (SPEC §1, §9)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs.models import Organization
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def test_the_form_sent_twice_creates_one_organization() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    client = Client()
    client.force_login(owner)
    form = client.get("/orgs/new/").content.decode()
    token = re.search(r'name="submit_token" value="([^"]+)"', form)
    assert token, form
    data = {"name": "Customer A", "submit_token": token.group(1)}
    entries = AuditEvent.objects.filter(action="organization.created", tenant_id=tenant.pk)
    before = entries.count()

    first = client.post("/orgs/new/", data, follow=True)
    assert [str(m) for m in first.context["messages"]] == [
        "Organization “Customer A” created. It is now your current organization."
    ]
    again = client.post("/orgs/new/", data, follow=True)
    assert again.status_code == 200
    assert [str(m) for m in again.context["messages"]] == [
        "That form was already submitted: the organization was created once."
    ]
    assert Organization.objects.filter(tenant=tenant, name="Customer A").count() == 1
    assert entries.count() == before + 1

    # A new visit to the form gets a new token: a second organization of that name stays possible.
    token2 = re.search(r'name="submit_token" value="([^"]+)"', client.get("/orgs/new/").content.decode())
    assert token2 and token2.group(1) != token.group(1)
    client.post("/orgs/new/", {"name": "Customer A", "submit_token": token2.group(1)})
    assert Organization.objects.filter(tenant=tenant, name="Customer A").count() == 2
