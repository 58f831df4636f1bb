"""What README.md, docs/*.md and clients/python/README.md promise, held against the product
(docs-truth review). Each test names the page it keeps true; the requests and the answers'
shapes are the documents' own examples, so a change on either side shows up here."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apikeys import services as key_services
from tests.factories import make_key, make_tenant
from tests.operations.test_metrics import Delta


@pytest.fixture
def docworld(db: Any) -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(name="Docs", orgs=1, plan="pro")
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="Contoso full access")
    return {"tenant": tenant, "owner": owner, "org": org, "key": key, "raw": raw}


# --- docs/operations.md "Metrics" -------------------------------------------------------------


def test_seed_paths_key_refusals_are_key_auth_outcomes(docworld: dict[str, Any]) -> None:
    """operations.md: ``tater_key_auth_total{outcome}`` is the catalog code of every API-key
    refusal. The seed systems' paths (SPEC §5a: the same core) answer in their own envelope
    (Tatry's ``{"status": "error", "error": {...}}``, taap.it's ``{"detail"}``), which hid the
    code: a key guessed or replayed there never showed in the metrics."""
    revoked, revoked_raw = make_key(
        user=docworld["owner"], tenant=docworld["tenant"], org=docworld["org"], name="revoked"
    )
    key_services.apikey_revoke(api_key=revoked, actor=docworld["owner"])
    delta = Delta()
    client = Client()
    bad = "tater_" + "0" * 31 + "1"
    assert client.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code == 401
    assert client.get("/v1/workspaces", HTTP_AUTHORIZATION=f"Bearer {bad}").status_code == 401
    assert client.get("/v1/workspaces", HTTP_AUTHORIZATION=f"Bearer {revoked_raw}").status_code == 401
    ok = client.get("/v1/auth/validate", HTTP_AUTHORIZATION=f"Bearer {docworld['raw']}")
    assert ok.status_code == 200
    assert delta("tater_key_auth_total", outcome="UNAUTHORIZED") == 2
    assert delta("tater_key_auth_total", outcome="KEY_REVOKED") == 1
    assert delta("tater_key_auth_total", outcome="ok") == 1


def test_usage_exhausted_refusals_are_counted_by_their_code(docworld: dict[str, Any]) -> None:
    """operations.md: ``UNKNOWN`` is a 429 *without* a catalog code (the sign-in forms); a
    used-up key's 429 ``USAGE_EXHAUSTED`` has one and was filed as ``UNKNOWN``."""
    _, raw = make_key(
        user=docworld["owner"],
        tenant=docworld["tenant"],
        org=docworld["org"],
        name="trial",
        usage_limit=1,
        usage_refill="monthly",
    )
    delta = Delta()
    client = Client()
    statuses = [client.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code for _ in range(2)]
    assert statuses == [200, 429]
    route = "/api/v1/auth/validate"
    assert delta("tater_rate_limit_refusals_total", code="USAGE_EXHAUSTED", route=route) == 1
    assert delta("tater_rate_limit_refusals_total", code="UNKNOWN", route=route) == 0
