"""README "Operators": the commands are scripted (``--json``) beside the API, and "dates follow
the API's": every date an API answer carries is ISO 8601 UTC ending in ``Z`` (README
"Endpoints"). ``create_api_key --json`` printed ``"expires_at": "2027-01-06T16:27:59.781527+00:00"``
and ``revoke_api_key --json`` ``"revoked_at": "…+00:00"`` while ``GET /api/v1/keys/{id}/`` wrote
the same moments ``…Z``: a script comparing the two saw different strings for one expiry."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command

from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_command_dates_are_the_apis(api: Any) -> None:
    tenant, owner, (org,) = make_tenant()
    _, reader = make_key(user=owner, tenant=tenant, org=org, name="reader")
    made = run(
        "create_api_key",
        *("--user", owner.email, "--tenant", tenant.public_id, "--org", org.public_id),
        *("--expires-in", "30d"),
    )
    assert made["expires_at"].endswith("Z"), made["expires_at"]
    revoked = run("revoke_api_key", made["id"])
    assert revoked["revoked_at"].endswith("Z"), revoked["revoked_at"]

    shown = api.get(f"/api/v1/keys/{made['id']}/", HTTP_X_API_KEY=reader)
    assert shown.status_code == 200, shown.content
    assert shown.json()["expires_at"] == made["expires_at"]
    assert shown.json()["revoked_at"] == revoked["revoked_at"]
