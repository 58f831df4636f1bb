"""``create_api_key --expires-in`` with a period too long to compute (a typo such as
99999999d) ended in a Python traceback; like any other bad value it is a clean error (exit 1,
with --json an error object naming the option) and no key is made."""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from tests.audit.conftest import run_command
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("period", ["99999999d", "999999999999d", "9999999999999999999999w"])
def test_an_expiry_too_far_away_is_a_clean_error(period):
    tenant, owner, _ = make_tenant()
    code, result = run_command(
        "create_api_key", "--user", owner.email, "--tenant", tenant.public_id, "--name", "ci", "--expires-in", period
    )
    assert code == 1 and result["error"] == "VALIDATION_ERROR" and "--expires-in" in result["message"]
    assert not ApiKey.objects.filter(name="ci").exists()
