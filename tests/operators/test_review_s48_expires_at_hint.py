"""Review s48: ``create_api_key --expires-at`` without a time zone is refused with an example to
follow, and that example was spelled ``2027-01-01T00:00:00+00:00`` while the command, the API and
README "Operators" write UTC ending in ``Z`` (and 2027-01-01 is weeks away: following it soon
gives "Expiry must be in the future"). The example now ends in ``Z``, far enough ahead, and
following it creates the key."""

from __future__ import annotations

import re

import pytest

from tests.audit.conftest import run_command
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def test_the_time_zone_hint_spells_utc_with_z_and_works_as_given():
    tenant, owner, _ = make_tenant()
    base = ["create_api_key", "--user", owner.email, "--tenant", tenant.public_id, "--name", "ci"]
    code, refused = run_command(*base, "--expires-at", "2031-01-01T00:00:00")
    assert code == 1 and refused["error"] == "VALIDATION_ERROR" and "--expires-at" in refused["message"]
    assert "+00:00" not in refused["message"]
    example = re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", refused["message"])
    assert example is not None

    code, created = run_command(*base, "--expires-at", example[0])
    assert code == 0 and created["expires_at"] == example[0]
