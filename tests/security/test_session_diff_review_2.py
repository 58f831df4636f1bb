"""Second review of this session's diff (7e7c673..): admin session/group audit, the
invitation and passkey locks, expiry notices, seed-path metrics, the Python client, the scan
metadata cap and uploader email, the JSON parser, bootstrap_demo, the scans page dates, the
key-prefix check and the docs. Expectations from SPEC §7, §10, §13 and the admin's own rule
(README "Operators": only superusers act on a superuser's or another operator's account).

- Deleting a session in the admin now signs that browser out (it used to drop only the
  tracking row). That made "delete user session" a power over every account, operators
  included: a staff operator holding it (say, a compromised support account) could sign the
  superusers out, again and again, while they try to shut it out, where the admin lets such
  an operator neither change nor delete another operator's account. A superuser's or another
  operator's session is now the superusers' to end, one by one and in bulk; a staff operator
  still ends any other user's session and their own.
- Two removals of one passkey at once (a double-click, two tabs) are serialized by the new
  lock, but the second, holding a stale copy, found the passkey gone and still wrote an
  ``mfa.disabled`` entry for a removal that did not happen: the audit log (SPEC §7: every
  write, what changed) showed the passkey removed twice. The second now does nothing.

The rest of the diff held under this review (lock order on PostgreSQL, seed paths' metrics,
SCIM filters and bodies with out-of-range numbers, public keys on the scan API, the scans
page's far dates, the demo's identification, the docs' claims).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory, make_passkey
from tests.security.test_session_diff_review import staff_operator

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/accounts/usersession/"


def signed_in_browser(user: Any) -> Client:
    browser = Client()
    r = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert r.status_code == 302
    assert browser.get("/accounts/security/").status_code == 200
    return browser


def still_signed_in(browser: Client) -> bool:
    return browser.get("/accounts/security/").status_code == 200


# --- README "Operators" / SPEC §10: a staff operator never acts on another operator --------


@pytest.mark.parametrize("victim_kind", ["superuser", "other staff"])
def test_a_staff_operator_cannot_sign_another_operator_out(victim_kind: str) -> None:
    support, _ = staff_operator("view_usersession", "delete_usersession")
    victim = UserFactory(is_staff=True, is_superuser=victim_kind == "superuser")
    browser = signed_in_browser(victim)
    tracked = UserSession.objects.get(user=victim)

    r = support.post(f"{SESSIONS}{tracked.pk}/delete/", {"post": "yes"})
    assert r.status_code == 403
    r = support.post(SESSIONS, {"action": "delete_selected", "_selected_action": [str(tracked.pk)], "post": "yes"})
    assert r.status_code in (200, 302, 403)

    assert still_signed_in(browser)
    assert UserSession.objects.filter(pk=tracked.pk).exists()
    assert not AuditEvent.objects.filter(action="user.sessions_ended").exists()


def test_a_staff_operator_still_ends_a_users_session_and_a_superuser_any() -> None:
    support, _ = staff_operator("view_usersession", "delete_usersession")
    customer = UserFactory()
    customer_browser = signed_in_browser(customer)
    r = support.post(f"{SESSIONS}{UserSession.objects.get(user=customer).pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not still_signed_in(customer_browser)

    boss = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(boss)
    admin = Client()
    admin.post("/accounts/login/", {"login": boss.email, "password": PASSWORD})
    assert admin.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    operator = UserFactory(is_staff=True)
    operator_browser = signed_in_browser(operator)
    r = admin.post(f"{SESSIONS}{UserSession.objects.get(user=operator).pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    assert not still_signed_in(operator_browser)


# --- SPEC §7: the audit log records the writes that happened, each once ----------------------


def test_a_passkey_removed_twice_at_once_is_audited_once() -> None:
    """The second of two concurrent removals holds a copy read before the first committed
    (what the lock makes it wait for); replayed here in that order."""
    from accounts import passkeys

    user = UserFactory()
    first = make_passkey(user, 1)
    make_passkey(user, 2)
    stale = WebAuthnCredential.objects.get(pk=first.pk)

    passkeys.passkey_remove(passkey=first)
    passkeys.passkey_remove(passkey=stale)

    removed = AuditEvent.objects.filter(action="mfa.disabled", target_id=str(user.public_id))
    assert [e.changes.get("name") for e in removed] == ["key 1"]
    assert WebAuthnCredential.objects.filter(user=user).count() == 1
