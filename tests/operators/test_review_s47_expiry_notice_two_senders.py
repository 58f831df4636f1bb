"""Review s47 (SPEC §14 "Expiry notices at 60, 30 and 7 days (each once)"), as an operator
running ``send_key_expiry_notices`` from cron on every node: two runs at once mail each
notice once. On PostgreSQL each run claims a notice with one conditional UPDATE; a run whose
claim waits for another's (on the key's row) must see that claim once it commits, not the
row as it was when its statement began, else the owner gets the notice twice.

The race is lined up deterministically: the first run's transaction is held open after its
claim (as a node paused between its UPDATE and its COMMIT), the second run starts and waits on
the key's row, then the first commits."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from tests.factories import make_key, make_tenant

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
        )
        return int(cursor.fetchone()[0])


def test_two_runs_at_once_mail_a_notice_once() -> None:
    tenant, owner, (org,) = make_tenant(name="Acme", orgs=1)
    make_key(user=owner, tenant=tenant, org=org, name="nightly", expires_at=timezone.now() + timedelta(days=5))
    claimed, commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first_node() -> None:
        try:
            with transaction.atomic():
                call_command("send_key_expiry_notices", "--days", "7", "--json", stdout=io.StringIO())
                claimed.set()
                commit.wait(timeout=30)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            claimed.set()
        finally:
            connection.close()

    def second_node() -> None:
        try:
            call_command("send_key_expiry_notices", "--days", "7", "--json", stdout=io.StringIO())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=first_node)
    first.start()
    assert claimed.wait(timeout=30)
    second = threading.Thread(target=second_node)
    second.start()
    deadline = time.monotonic() + 10
    while second.is_alive() and not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.005)  # polling, not ordering: the second run waits on the key's row
    commit.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert not errors, errors
    notices = [m for m in mail.outbox if "nightly" in m.subject]
    assert len(notices) == 1, [m.subject for m in notices]
