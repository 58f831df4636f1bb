"""Since s39 ``GET organizations/`` and taap.it's ``/v1/workspaces`` are not paged and refuse a
query parameter they do not read (``?limit=5`` answered every org): a 400 naming it, in each
surface's shape (SPEC §3, §5a). The pages their integrators read, the endpoint table of
docs/orgs-scans-openapi.md and docs/migrating-from-taapit.md, said which hints are read but
not that anything else is refused; README.md and docs/authorization.md did. Since s46
``GET organizations/`` is paged (``limit``/``offset``); taap.it's array is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import make_key, make_tenant

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def raw(db: Any) -> str:
    tenant, owner, (org,) = make_tenant(name="Umbrella", orgs=1)
    return make_key(user=owner, tenant=tenant, org=org, name="lister")[1]


def test_the_api_list_pages_and_taapit_refuses_limit(raw: str) -> None:
    api = Client().get("/api/v1/organizations/?limit=5", HTTP_X_API_KEY=raw)
    assert api.status_code == 200 and api.json()["limit"] == 5
    api = Client().get("/api/v1/organizations/?limt=5", HTTP_X_API_KEY=raw)
    assert api.status_code == 400 and "limt" in api.json()["message"]
    taapit = Client().get("/v1/workspaces?limit=5", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert taapit.status_code == 400 and "limit" in taapit.json()["detail"]


def test_endpoint_table_says_the_org_list_is_paged() -> None:
    row = next(
        line
        for line in (DOCS / "orgs-scans-openapi.md").read_text().splitlines()
        if line.startswith("| `GET organizations/` |")
    )
    assert "`limit`" in row and "`offset`" in row and "400" in row and "not paged" not in row, row


def test_taapit_guide_says_other_query_parameters_are_refused() -> None:
    guide = " ".join((DOCS / "migrating-from-taapit.md").read_text().split())
    assert "`?limit=`" in guide and "400" in guide.split("`?limit=`", 1)[1][:200], guide
