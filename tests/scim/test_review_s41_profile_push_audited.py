"""Every write through SCIM is audited with channel ``scim`` (SPEC §7, §13), including the
account's name the directory pushes: an identity provider re-sending a User unchanged (Okta
pushes whole profiles with PUT, Entra ID re-syncs) must not rewrite the account's name with
no entry saying so (review s41)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from tests.scim.conftest import new_user, patch_op, provision

pytestmark = pytest.mark.django_db

User = get_user_model()


def scim_entries() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(channel="scim").order_by("id"))


def test_a_resent_user_that_renames_the_account_leaves_an_entry(acme):
    ada = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    # An operator corrects the name in the admin; the directory still says Ada Lovelace.
    account.first_name = "Augusta"
    account.save(update_fields=["first_name"])
    before = len(scim_entries())
    r = acme.scim.put(f"/Users/{ada['id']}", new_user("ada@acme.test"))
    assert r.status_code == 200, r.content
    account.refresh_from_db()
    if account.first_name == "Augusta":
        return  # nothing was written to the account
    entries = scim_entries()[before:]
    assert entries, "the account's name changed with no audit entry"
    said = json.dumps([e.changes for e in entries])
    assert "Augusta" in said and "Ada" in said


def test_a_resent_patch_that_renames_the_account_leaves_an_entry(acme):
    ada = provision(acme, "ada@acme.test")
    account = User.objects.get(email="ada@acme.test")
    account.last_name = "Byron"
    account.save(update_fields=["last_name"])
    before = len(scim_entries())
    # Entra ID's re-sync: a path-less Replace with the values it already sent.
    r = acme.scim.patch(
        f"/Users/{ada['id']}",
        patch_op({"op": "Replace", "value": {"name.givenName": "Ada", "name.familyName": "Lovelace"}}),
    )
    assert r.status_code == 200, r.content
    account.refresh_from_db()
    if account.last_name == "Byron":
        return
    entries = scim_entries()[before:]
    assert entries, "the account's name changed with no audit entry"
    assert "Byron" in json.dumps([e.changes for e in entries])


def test_an_unchanged_resend_writes_nothing(acme):
    ada = provision(acme, "ada@acme.test")
    before = len(scim_entries())
    version = ada["meta"]["version"]
    r = acme.scim.put(f"/Users/{ada['id']}", new_user("ada@acme.test"))
    assert r.status_code == 200 and r.json()["meta"]["version"] == version
    assert len(scim_entries()) == before
