"""``purge_audit --older-than`` with a period too long to compute (a typo: 99999999999d) ended
in a Python traceback; like any other bad value it is now a clean error (exit 1, with --json
an error object) and nothing is purged."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.audit.conftest import run_command
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("period", ["999999999999d", "99999999d", "9999999999999999999999w"])
def test_a_period_too_long_is_a_clean_error(period):
    make_tenant()
    before = AuditEvent.objects.count()
    code, result = run_command("purge_audit", "--older-than", period)
    assert code == 1 and result["error"] == "VALIDATION_ERROR" and "older-than" in result["message"]
    assert AuditEvent.objects.count() == before
