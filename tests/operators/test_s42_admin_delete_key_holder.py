"""SPEC §10 (operators; keys in the admin have no delete, only revoke) and §7 (the audit log
names keys). An account that ever held an API key cannot be deleted in the admin: its keys go
with it, and no operator may delete keys, superusers included. Django's page said "your account
doesn't have permission to delete the following types of objects: API keys", which sends an
operator to ask for a permission that does not exist. The page now says why (keys are never
deleted, the audit log names them) and what to do instead (deactivate the account: its
sessions and keys stop working)."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, add_member, make_key, make_tenant, operator_client

pytestmark = pytest.mark.django_db
USERS = "/admin/accounts/user/"


def test_deleting_a_key_holder_says_keys_are_never_deleted_and_to_deactivate(settings) -> None:
    client = operator_client(settings)
    tenant, _, (org,) = make_tenant()
    holder = add_member(org, "admin")
    make_key(user=holder, tenant=tenant, org=org, name="Nightly sync")

    for page in (
        client.get(f"{USERS}{holder.pk}/delete/"),
        client.post(USERS, {"action": "delete_selected", "_selected_action": [holder.pk]}),
    ):
        text = page.content.decode()
        assert page.status_code == 200
        assert "permission to delete" not in text
        assert "API keys are never deleted" in text
        assert "Active" in text and "deactivate" in text.lower()
        assert "1 API key. API keys are never deleted" in text
        assert "Yes, I’m sure" not in text  # nothing to confirm

    # And nothing was deleted by posting anyway.
    client.post(f"{USERS}{holder.pk}/delete/", {"post": "yes"})
    assert type(holder).objects.filter(pk=holder.pk).exists()


def test_an_account_without_keys_is_still_deleted_as_before(settings) -> None:
    client = operator_client(settings)
    person = UserFactory()

    page = client.get(f"{USERS}{person.pk}/delete/")
    assert "Are you sure" in page.content.decode()
    client.post(f"{USERS}{person.pk}/delete/", {"post": "yes"})
    assert not type(person).objects.filter(pk=person.pk).exists()
