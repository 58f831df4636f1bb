"""Where an integrator reads what a key's ``scopes`` may be (the OpenAPI schema of
``POST keys/`` and ``PATCH keys/{id}/``, the Python client's ``keys.create`` and
``tater keys create --help``), the agent-key rule of s39 holds (SPEC §2, §2a): an agent
key carries ``scans:write`` only (omitted: ``scans:write``, not "your own permissions"),
and ``"*"`` or any other scope is a 400 naming them. The schema said
``"*" (full) … omitted: your own effective permissions`` for every type."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from tater_client import cli
from tater_client.resources import KeysAPI

from tests.factories import make_key, make_tenant


@pytest.fixture
def owner_key(db: Any) -> str:
    tenant, owner, (org,) = make_tenant(name="Agents", orgs=1, plan="pro")
    return make_key(user=owner, tenant=tenant, org=org, name="admin script")[1]


def _create(raw: str, body: dict[str, Any]) -> Any:
    return Client().post("/api/v1/keys/", data=json.dumps(body), content_type="application/json", HTTP_X_API_KEY=raw)


def test_agent_key_scopes_as_the_product_answers(owner_key: str) -> None:
    """The behaviour the descriptions below must tell (read from the API, not the code)."""
    made = _create(owner_key, {"name": "collector", "type": "agent"})
    assert made.status_code == 201, made.content
    assert made.json()["scopes"] == ["scans:write"]
    refused = _create(owner_key, {"name": "collector", "type": "agent", "scopes": ["*"]})
    assert refused.status_code == 400
    assert refused.json()["error"] == "VALIDATION_ERROR"


def _schema_field(tmp_path: Any, component: str, field: str) -> str:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    schema = json.loads(out.read_text())
    return str(schema["components"]["schemas"][component]["properties"][field].get("description", ""))


@pytest.mark.parametrize("component", ["ApiKeyCreateInputRequest", "PatchedApiKeyUpdateInputRequest"])
def test_schema_scopes_state_the_agent_rule(db: Any, tmp_path: Any, component: str) -> None:
    text = _schema_field(tmp_path, component, "scopes")
    assert "agent" in text.lower(), text
    assert "scans:write" in text, text


def test_client_docstring_states_the_agent_rule() -> None:
    doc = KeysAPI.create.__doc__ or ""
    assert "agent" in doc.lower() and "scans:write" in doc, doc


def test_cli_help_states_the_agent_rule(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        cli.main(["keys", "create", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "agent" in out.rsplit("--scopes SCOPES", 1)[1].split("--expires-at", 1)[0].lower(), out
