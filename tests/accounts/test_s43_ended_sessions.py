"""Sessions that ended on their own are no longer listed as signed in (SPEC §8, §7).

A signed-in session is tracked (``UserSession``) so "sign out everywhere" can find it. The
server-side session can end without Tater deleting that row: it expires (7 days), Django's
``clearsessions`` removes it, or ``manage.py changepassword`` signs it out. The security page
used to list such sessions as signed in for ever (a person checking for a thief's browser saw
browsers that were long gone), "sign out everywhere" counted them in its audit entry, and the
rows piled up. Only sessions still signed in are listed and counted now, and the dead rows of
an account are forgotten when it signs in again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.models import UserSession
from audit.models import AuditEvent
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db


def _signed_in(user: Any, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    r = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert r.status_code == 302, r.content[:300]
    return client


def _session_key(client: Client) -> str:
    return client.cookies["sessionid"].value


def _listed_agents(client: Client) -> str:
    page = client.get("/accounts/security/")
    assert page.status_code == 200
    return page.content.decode()


@pytest.fixture
def person() -> Any:
    _tenant, owner, _orgs = make_tenant(name="Acme")
    return owner


def test_an_expired_session_is_not_listed(person: Any) -> None:
    gone = _signed_in(person, "ExpiredBrowser/1.0")
    here = _signed_in(person, "CurrentBrowser/2.0")
    Session.objects.filter(session_key=_session_key(gone)).update(expire_date=timezone.now() - timedelta(minutes=1))
    page = _listed_agents(here)
    assert "CurrentBrowser/2.0" in page
    assert "ExpiredBrowser/1.0" not in page


def test_a_cleared_session_is_not_listed(person: Any) -> None:
    gone = _signed_in(person, "ClearedBrowser/1.0")
    here = _signed_in(person, "CurrentBrowser/2.0")
    Session.objects.filter(session_key=_session_key(gone)).delete()  # clearsessions, changepassword
    page = _listed_agents(here)
    assert "ClearedBrowser/1.0" not in page
    assert "CurrentBrowser/2.0" in page


def test_sign_out_everywhere_counts_the_sessions_it_ended(person: Any) -> None:
    other = _signed_in(person, "OtherBrowser/1.0")
    gone = _signed_in(person, "ExpiredBrowser/1.0")
    here = _signed_in(person, "CurrentBrowser/2.0")
    Session.objects.filter(session_key=_session_key(gone)).update(expire_date=timezone.now() - timedelta(days=1))
    assert here.post("/accounts/security/sign-out-everywhere/").status_code == 302
    entry = AuditEvent.objects.get(action="user.sessions_ended", target_id=person.public_id)
    assert entry.changes["sessions_ended"] == 1  # the other browser; not the expired one
    assert other.get("/api/v1/me").status_code == 401


def test_signing_in_again_forgets_the_ended_sessions(person: Any) -> None:
    live = _signed_in(person, "LiveBrowser/1.0")
    ended = [_signed_in(person, f"OldBrowser/{n}") for n in range(3)]
    Session.objects.filter(session_key__in=[_session_key(c) for c in ended]).delete()
    again = _signed_in(person, "NewBrowser/1.0")
    kept = set(UserSession.objects.filter(user=person).values_list("session_key", flat=True))
    assert kept == {_session_key(live), _session_key(again)}
