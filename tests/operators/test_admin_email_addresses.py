"""SPEC §7: every write through any channel is audited, the admin included. allauth's own
admin page for email addresses let an operator add a verified address to someone's account,
change one or delete it with no audit entry (the address decides sign-in, SSO routing and
which invitations the account may accept)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from audit.models import AuditEvent
from tests.factories import UserFactory, add_member, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db
PAGE = "/admin/account/emailaddress/"


def entries(user):
    return AuditEvent.objects.filter(action="user.email_changed", target_id=user.public_id, channel="admin")


def test_adding_changing_and_deleting_an_address_in_the_admin_is_audited():
    tenant, _, (org,) = make_tenant(name="Acme")
    person = add_member(org, "member", user=UserFactory(email="kim@acme.test"))
    admin = superuser_in_admin()

    r = admin.post(f"{PAGE}add/", {"user": person.pk, "email": "kim@other.test", "verified": "on"})
    assert r.status_code == 302, r.content[:500]
    added = EmailAddress.objects.get(email="kim@other.test")
    assert entries(person).count() == 1
    assert "kim@other.test" in str(entries(person).get().changes)
    assert entries(person).get().tenant == tenant

    r = admin.post(f"{PAGE}{added.pk}/change/", {"user": person.pk, "email": "kim@third.test", "verified": "on"})
    assert r.status_code == 302
    assert entries(person).count() == 2
    assert "kim@third.test" in str(entries(person).latest("id").changes)

    r = admin.post(f"{PAGE}{added.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not EmailAddress.objects.filter(pk=added.pk).exists()
    assert entries(person).count() == 3
