"""SPEC §6: every API response carries X-RateLimit-* (per user for sessions, by tenant plan).
A person in two tenants has a quota in each; an answer that resolved no tenant (400
AMBIGUOUS_ORG with no hint, sign-out) carried no headers at all for them, while a
one-tenant person's did. It now reports the quota of theirs nearest to running out (what
the next request may meet first), consuming nothing.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import add_member, make_tenant

pytestmark = pytest.mark.django_db
H = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def two_tenant_person(world):
    person = world["member"]
    _, _, (second_org,) = make_tenant(name="Initech", plan="enterprise", orgs=1)
    add_member(second_org, "member", user=person)
    add_member(world["org2"], "member", user=person)  # several orgs in Acme too
    return person, second_org


def test_an_answer_that_resolved_no_tenant_reports_the_nearest_quota(two_tenant_person, world):
    person, second_org = two_tenant_person
    client = APIClient()
    client.force_login(person)
    used = [client.get("/api/v1/scans/", {"organizationId": world["org1"].public_id}) for _ in range(3)]
    assert all(r.status_code == 200 for r in used)
    acme_left = int(used[-1]["X-RateLimit-Remaining"])  # free plan: 60 a minute
    in_initech = client.get("/api/v1/scans/", {"organizationId": second_org.public_id})
    assert in_initech.status_code == 200 and int(in_initech["X-RateLimit-Limit"]) > int(used[-1]["X-RateLimit-Limit"])

    ambiguous = client.get("/api/v1/scans/")
    assert ambiguous.status_code == 400 and ambiguous.json()["error"] == "AMBIGUOUS_ORG"
    assert all(h in ambiguous for h in H), dict(ambiguous.headers)
    assert ambiguous["X-RateLimit-Limit"] == used[-1]["X-RateLimit-Limit"]
    assert int(ambiguous["X-RateLimit-Remaining"]) == acme_left  # nothing consumed

    again = client.get("/api/v1/scans/", {"organizationId": world["org1"].public_id})
    assert int(again["X-RateLimit-Remaining"]) == acme_left - 1
    signed_out = client.post("/api/v1/auth/logout")
    assert signed_out.status_code in (200, 204) and all(h in signed_out for h in H), dict(signed_out.headers)
