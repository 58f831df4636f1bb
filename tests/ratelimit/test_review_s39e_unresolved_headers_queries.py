"""SPEC §6 (X-RateLimit-* on every API response, per user for sessions, by tenant plan) and
§12 (operations at scale). An answer that resolved no tenant (400 ``AMBIGUOUS_ORG`` with no
hint, sign-out) reports the quota of the caller's tenants nearest to running out. Reading
each tenant's plan took one query per tenant: a person in many tenants (an MSP technician)
paid a query per tenant on every such answer. The plans now come with the tenants, in one
query, whatever their number; the headers are unchanged (each tenant's own plan)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import add_member, make_tenant

pytestmark = pytest.mark.django_db


def _ambiguous_queries(person) -> tuple[int, dict[str, str]]:
    client = APIClient()
    client.force_login(person)
    client.get("/api/v1/scans/")  # warm the session and per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/scans/")
    assert response.status_code == 400 and response.json()["error"] == "AMBIGUOUS_ORG"
    return len(captured), {h: response[h] for h in ("X-RateLimit-Limit", "X-RateLimit-Remaining")}


def test_the_headers_of_an_unresolved_answer_cost_the_same_queries_for_two_or_eight_tenants(world):
    person = world["member"]
    _, _, (first,) = make_tenant(name="Initech", plan="free", orgs=1)
    add_member(first, "member", user=person)
    two, headers = _ambiguous_queries(person)
    for n in range(6):
        _, _, (org,) = make_tenant(name=f"Client {n}", plan="enterprise", orgs=1)
        add_member(org, "member", user=person)
    eight, headers_eight = _ambiguous_queries(person)
    assert eight == two, (two, eight)
    assert headers["X-RateLimit-Limit"] == headers_eight["X-RateLimit-Limit"] == "60"  # the free plan's
