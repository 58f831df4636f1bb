"""docs/scim.md §6 ("every failure ... unknown paths and methods" answer SCIM's JSON error) and
SPEC §3's JSON everywhere on API paths: OPTIONS on a real SCIM endpoint answered 200 with DRF's
description of the view (its name, docstring and parsers), a document no SCIM client reads and
one that named the code's classes. SCIM defines no OPTIONS: it is a SCIM 405 whose Allow lists
the methods the endpoint serves."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.mark.parametrize("path", ["/Users", "/Groups", "/ServiceProviderConfig", "/Schemas", "/ResourceTypes"])
def test_options_on_an_endpoint_is_a_scim_405(acme, path: str) -> None:
    r = acme.scim.client.options(f"/scim/v2{path}", HTTP_AUTHORIZATION=f"Bearer {acme.secret}")
    assert r.status_code == 405, (r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/scim+json")
    assert r.json()["schemas"] == [ERROR]
    allowed = {m.strip() for m in r["Allow"].split(",")}
    assert "GET" in allowed and "OPTIONS" not in allowed, r["Allow"]
