"""Found by an attacker review of HTTP protocol edges on the API and the seed systems' paths
(SPEC §3 "JSON everywhere", §4, §5, §5a, §6), expectations from the SPEC:

- ``OPTIONS /api/docs/`` was a 500: DRF answered it with the view's metadata, rendered
  through the Swagger page's HTML template, which has nothing to render it with. §3: every
  answer under ``/api/`` is JSON, "never a 500 for bad input";
- ``?format=`` anything but ``json`` on an API view that does not read the parameter itself
  (``GET /api/v1/keys/?format=csv``) was a 404 ``NOT_FOUND``: DRF's renderer switch finds no
  renderer claiming that format. §3: "not found" is for what does not exist; the key list
  does. The parameter is one like the others there (the audit log's export reads it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"


def keyed(world: dict[str, Any]) -> dict[str, str]:
    return {"HTTP_X_API_KEY": world["owner_raw"]}


def json_answer(r: Any) -> Any:
    """The answer is JSON and not a server error."""
    assert r.status_code < 500, (r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json"), (r["Content-Type"], r.content[:300])
    return json.loads(r.content) if r.content else None


# --- 1. OPTIONS on the interactive docs ------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/docs/", "/api/docs"])
@pytest.mark.parametrize("with_key", [False, True])
def test_options_on_the_api_docs_is_never_a_500(world, url, with_key):
    client = Client(raise_request_exception=False)
    r = client.options(url, **(keyed(world) if with_key else {}))
    json_answer(r)
    assert r.status_code in (200, 204, 405)


def test_the_api_docs_page_is_still_served(world):
    r = Client().get("/api/docs/")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/html")
    assert Client().head("/api/docs/").status_code == 200


# --- 2. ?format= is no renderer switch ------------------------------------------------------


@pytest.mark.parametrize("value", ["csv", "api", "xml", "yaml", "txt"])
@pytest.mark.parametrize(
    "url",
    [
        KEYS,
        "/api/v1/auth/validate",
        "/api/v1/organizations/",
        "/api/v1/scans/",
        "/api/v1/me",
    ],
)
def test_a_format_parameter_never_makes_an_existing_endpoint_a_404(api, world, url, value):
    r = api.get(f"{url}?format={value}", **keyed(world))
    body = json_answer(r)
    assert r.status_code != 404, body
    assert r.status_code == 200, body


def test_a_format_parameter_on_a_seed_path_is_no_404(api, world):
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {world['owner_raw']}"}
    tatry = api.get("/v1/auth/validate?format=csv", **bearer)
    assert tatry.status_code == 200 and json_answer(tatry)["status"] == "success"
    taapit = api.get("/v1/workspaces?format=csv", **bearer)
    assert taapit.status_code == 200 and isinstance(json_answer(taapit), list)


def test_the_audit_export_still_reads_its_format(api, world):
    r = api.get("/api/v1/audit-log/?format=csv", **keyed(world))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    refused = api.get("/api/v1/audit-log/?format=xml", **keyed(world))
    assert refused.status_code == 400 and json_answer(refused)["error"] == "VALIDATION_ERROR"


def test_the_schema_keeps_its_format_switch(api):
    r = api.get("/api/schema/?format=json")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.oai.openapi+json")
