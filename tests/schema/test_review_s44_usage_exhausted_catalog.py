"""Review s44 (SPEC §14 "exhausted → 429 USAGE_EXHAUSTED", §3 the error catalog): an integrator
reading the API reference or the OpenAPI schema learns that a 429 may be a used-up key, whose
Retry-After can be days away (or absent: a limit without refill never comes back), not a rate
limit to retry in seconds. Found by review: the code was answered, documented in the README,
and listed in neither (as HTTPS_REQUIRED was before s34)."""

from __future__ import annotations

import html
import json
import re

import pytest

VALIDATE = "/api/v1/auth/validate"


@pytest.mark.django_db
def test_the_api_reference_lists_usage_exhausted(client, world) -> None:
    client.force_login(world["member"])
    page = html.unescape(client.get("/docs/api/").content.decode())
    table = re.search(r'<table id="error-catalog">(.*?)</table>', page, re.S).group(1)
    row = next((r for r in table.split("<tr>") if "USAGE_EXHAUSTED" in r), "")
    assert "429" in row and "This API key has used all of its allowed requests" in row


@pytest.mark.django_db
def test_the_schema_documents_usage_exhausted_where_keys_are_counted(client) -> None:
    schema = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    for path in ("/api/v1/auth/validate", "/api/v1/keys/"):
        examples = schema["paths"][path]["get"]["responses"]["429"]["content"]["application/json"]["examples"]
        codes = {example["value"]["error"] for example in examples.values()}
        assert {"RATE_LIMITED", "USAGE_EXHAUSTED"} <= codes, (path, codes)
