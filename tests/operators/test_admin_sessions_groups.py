"""The admin's session and group pages (SPEC §10 operators, §7 audit, §8 server-side
sessions), as an operator answering an incident would use them:

- deleting a signed-in session in the admin must sign that browser out, not only drop the
  row that lets "sign out everywhere" and deactivation find it (the session lived on, and
  untracked); the act is audited;
- a change to an operator group (who holds which admin powers) is audited like a change
  to an operator account.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory
from tests.security.test_session_diff_review import signed_in_with_code

pytestmark = pytest.mark.django_db


def superuser_in_admin() -> Client:
    boss = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(boss)
    client = signed_in_with_code(boss, codes[0])
    assert client.get("/admin/").status_code == 200
    return client


def signed_in_browser(user: object) -> Client:
    browser = Client()
    r = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})  # type: ignore[attr-defined]
    assert r.status_code == 302
    assert browser.get("/accounts/security/").status_code == 200
    return browser


def test_deleting_a_session_in_the_admin_signs_that_browser_out() -> None:
    admin = superuser_in_admin()
    victim = UserFactory()
    stolen = signed_in_browser(victim)
    tracked = UserSession.objects.get(user=victim)

    r = admin.post(f"/admin/accounts/usersession/{tracked.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302

    r = stolen.get("/accounts/security/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    entry = AuditEvent.objects.filter(target_id=str(victim.public_id)).latest("id")
    assert entry.action == "user.sessions_ended"
    assert entry.changes["via"] == "operator" and entry.changes["sessions_ended"] == 1


def test_bulk_deleting_sessions_in_the_admin_signs_each_browser_out() -> None:
    admin = superuser_in_admin()
    victims = [UserFactory(), UserFactory()]
    browsers = [signed_in_browser(v) for v in victims]
    ids = [str(pk) for pk in UserSession.objects.filter(user__in=victims).values_list("pk", flat=True)]

    r = admin.post(
        "/admin/accounts/usersession/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert r.status_code == 302

    for browser in browsers:
        assert browser.get("/accounts/security/").status_code == 302
    assert AuditEvent.objects.filter(action="user.sessions_ended").count() == 2


def test_changing_an_operator_groups_permissions_is_audited() -> None:
    admin = superuser_in_admin()
    support = Group.objects.create(name="support")
    grant = Permission.objects.get(codename="change_user")

    r = admin.post(f"/admin/auth/group/{support.pk}/change/", {"name": "support", "permissions": [grant.pk]})
    assert r.status_code == 302

    entry = AuditEvent.objects.filter(action="operator_group.updated").latest("id")
    assert entry.changes["permissions"]["to"] == ["accounts.change_user"]
    assert entry.changes["permissions"]["from"] == []
    assert entry.channel == "admin"


def test_creating_and_deleting_an_operator_group_is_audited() -> None:
    admin = superuser_in_admin()
    r = admin.post("/admin/auth/group/add/", {"name": "auditors"})
    assert r.status_code == 302
    group = Group.objects.get(name="auditors")
    assert AuditEvent.objects.filter(action="operator_group.created").exists()

    r = admin.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    entry = AuditEvent.objects.filter(action="operator_group.deleted").latest("id")
    assert entry.changes["name"] == {"from": "auditors"}
