"""SPEC §1: API ids are opaque strings, never sequential integers; nothing of one tenant is
visible to another. An audit entry about an object that has no public id (a domain claim, a
membership changed in the admin, an operator group) named it by its database row number in
`target.id` (API, CSV, Activity Log): a tenant owner adding a domain read how many domains
every tenant had claimed so far. Such a target keeps its type and display; its id is null."""

from __future__ import annotations

import csv
import io
import re

import pytest

from accounts import domains

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def test_a_domain_claims_entry_does_not_show_its_row_number(api, world):
    # Other tenants' claims come first: the row number would count them.
    domains.domain_add(tenant=world["other_tenant"], actor=world["other_owner"], domain="globex.example")
    domains.domain_add(tenant=world["tenant"], actor=world["owner"], domain="acme.example")
    api.force_login(world["owner"])
    r = api.get(URL, {"action": "sso.domain_added", "organizationId": world["org1"].public_id})
    assert r.status_code == 200
    (entry,) = r.json()["entries"]
    assert entry["target"]["type"] == "tenantdomain"
    assert "acme.example" in entry["target"]["display"]
    assert entry["target"]["id"] is None

    export = api.get(URL, {"action": "sso.domain_added", "format": "csv", "organizationId": world["org1"].public_id})
    (row,) = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert row["target_type"] == "tenantdomain"
    assert row["target_id"] == ""


def test_no_entry_a_tenant_reads_names_a_target_by_a_number(api, world, client):
    domains.domain_add(tenant=world["tenant"], actor=world["owner"], domain="acme.example")
    api.force_login(world["owner"])
    r = api.get(URL, {"limit": 500, "organizationId": world["org1"].public_id})
    for entry in r.json()["entries"]:
        if entry["target"] is not None and entry["target"]["id"] is not None:
            assert not entry["target"]["id"].isdigit(), entry
    client.force_login(world["owner"])
    html = client.get("/activity/", {"action": "sso.domain_added"}).content.decode()
    assert "acme.example" in html
    assert not re.search(r"tenantdomain\s+(\d|None)", html)
