"""SPEC §3 (every API error in the catalog; status codes follow HTTP semantics): review s47 made
the API reference list "every code answered", but a request whose Accept header names only
types the API does not send (``Accept: application/xml``, as some HTTP tools default to) is
answered ``406 NOT_ACCEPTABLE`` in the catalog's format, a code the reference's catalog did not
list: an integrator coding against it met an unknown error. The reference now lists it, with
the message the API sends."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


def test_the_reference_lists_the_406_the_api_answers(client: Any) -> None:
    tenant, owner, (org,) = make_tenant()
    _, key = make_key(user=owner, tenant=tenant, org=org)
    answer = client.get("/api/v1/keys/", HTTP_X_API_KEY=key, HTTP_ACCEPT="application/xml")
    assert answer.status_code == 406, answer.content
    body = answer.json()
    assert body["error"] == "NOT_ACCEPTABLE"

    client.force_login(owner)
    page = html.unescape(client.get("/docs/api/").content.decode())
    table = re.search(r'<table id="error-catalog">(.*?)</table>', page, re.S)
    assert table, page[:500]
    row = next((row for row in table.group(1).split("<tr>") if "NOT_ACCEPTABLE" in row), "")
    assert "406" in row and body["message"] in row, row
