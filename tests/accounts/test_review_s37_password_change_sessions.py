"""A password change keeps the browser that made it on the list of signed-in sessions.

Django gives the session a new id when its password changes (``update_session_auth_hash``),
but Tater tracks sessions by id (``UserSession``, what "Sign out everywhere", the admin's
session list, a password reset and a first second factor use to end them). The row kept
the old id, so the session that changed the password was no longer tracked: "Sign out
everywhere" from another device left it signed in, and so did a later password reset.
The other sessions, which the change signed out (Django's session hash), stayed listed.
Now the changed password's session is tracked under its new id and the others are gone
from the server and the list (GitHub and Django both sign the other sessions out).
"""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import services
from accounts.models import UserSession
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db
NEW = "N3w-pass-word-xyz!"


def _signed_in(password: str, email: str) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"login": email, "password": password}).status_code == 302
    return client


def _change_password(client: Client) -> None:
    done = client.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW})
    assert done.status_code == 302


def test_sign_out_everywhere_reaches_the_session_that_changed_the_password() -> None:
    _, owner, _ = make_tenant()
    laptop = _signed_in(PASSWORD, owner.email)
    _change_password(laptop)
    assert laptop.get("/accounts/security/").status_code == 200  # still signed in

    phone = _signed_in(NEW, owner.email)
    phone.post("/accounts/security/sign-out-everywhere/")
    gone = laptop.get("/accounts/security/")
    assert gone.status_code == 302 and "/accounts/login/" in gone["Location"]


def test_the_session_list_after_a_password_change_is_the_current_session() -> None:
    _, owner, _ = make_tenant()
    other = _signed_in(PASSWORD, owner.email)
    laptop = _signed_in(PASSWORD, owner.email)
    other_key = other.cookies["sessionid"].value
    _change_password(laptop)
    current = laptop.cookies["sessionid"].value
    assert list(UserSession.objects.filter(user=owner).values_list("session_key", flat=True)) == [current]
    assert not Session.objects.filter(session_key=other_key).exists()
    assert other.get("/accounts/security/").status_code == 302  # signed out, as Django does

    # A password reset (what someone does after a compromise) ends it too.
    services.sessions_end_all(user=owner)
    assert laptop.get("/accounts/security/").status_code == 302
