"""SPEC §12: no secret ever appears in the logs. With ``LOG_LEVEL=DEBUG`` (and Django's
debug cursor, on with ``DJANGO_DEBUG``), ``django.db.backends`` logged every SQL statement
with its parameters: session keys, TOTP seeds, token digests, none of them redacted."""

from __future__ import annotations

import logging

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-session-key-0123456789abcdef"


def test_sql_statements_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG, as LOG_LEVEL=DEBUG sets it
    with CaptureQueriesContext(connection):  # the debug cursor, as DJANGO_DEBUG turns it on
        Session.objects.filter(session_key=SECRET).exists()
    assert SECRET not in caplog.text
