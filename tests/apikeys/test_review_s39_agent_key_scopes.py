"""Found by a review of key input consistency (2026-12-06), expectations from SPEC §2
("agent (collectors; only on endpoints that admit agents, must be org-bound)"), §2a ("A
create without scopes gets the caller's own effective permissions", "Public keys read
business data only") and §5 ("agents may upload"):

the only business endpoint that admits an agent key is the scan upload (``scans:write``,
which implies ``scans:read``); validate and ``me`` need no scope. Yet ``POST /api/v1/keys/``
with ``{"type": "agent", "scopes": ["keys:write", "members:read"]}`` answered 201 and listed
an ``ak_`` key with scopes it can never use, and ``manage.py create_api_key --type agent``
(whose ``--scopes`` default was ``*``) stored ``*`` on every agent key; an owner's PATCH could
give an agent key ``audit:read``. The UI form offered agents ``scans:write`` only. Like a
public key's, an agent key's unusable scopes are now a 400 naming them on every channel, and
a create without scopes gets what an agent can use.
"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apikeys.models import ApiKey
from tests.factories import make_key

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/keys/"


def _refused_naming(response: Any, *scopes: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR" and "scopes" in body["details"]["fields"], body
    for scope in scopes:
        assert scope in body["message"], body


@pytest.fixture
def owner_session(api, world):
    api.force_login(world["owner"])
    return api


def _url(world: dict[str, Any]) -> str:
    return f"{KEYS}?organizationId={world['org1'].public_id}"


@pytest.mark.parametrize("scopes", [["keys:write"], ["scans:write", "members:read"], ["*"], ["*:read"], ["audit:read"]])
def test_an_agent_key_with_scopes_it_can_never_use_is_refused(owner_session, world, scopes):
    r = owner_session.post(_url(world), {"name": "collector", "type": "agent", "scopes": scopes}, format="json")
    _refused_naming(r)
    assert not ApiKey.objects.filter(name="collector").exists()


def test_the_message_names_the_unusable_scopes(owner_session, world):
    r = owner_session.post(
        _url(world), {"name": "collector", "type": "agent", "scopes": ["scans:write", "keys:write"]}, format="json"
    )
    _refused_naming(r, "keys:write")


def test_an_agent_key_with_what_agents_use_is_created(owner_session, world):
    for scopes in (["scans:write"], ["scans:read", "scans:write"]):
        r = owner_session.post(_url(world), {"name": "collector", "type": "agent", "scopes": scopes}, format="json")
        assert r.status_code == 201, r.json()
    r = owner_session.post(_url(world), {"name": "default", "type": "agent"}, format="json")
    assert r.status_code == 201 and r.json()["scopes"] == ["scans:write"], r.json()


def test_an_agent_key_cannot_be_given_unusable_scopes_later(owner_session, world):
    agent, _ = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], key_type="agent")
    r = owner_session.patch(
        f"{KEYS}{agent.public_id}/?organizationId={world['org1'].public_id}", {"scopes": ["audit:read"]}, format="json"
    )
    _refused_naming(r, "audit:read")
    agent.refresh_from_db()
    assert agent.scopes == ["scans:write"]


def _command(world: dict[str, Any], *extra: str) -> dict[str, Any]:
    out = StringIO()
    call_command(
        "create_api_key",
        "--user",
        world["owner"].email,
        "--tenant",
        world["tenant"].public_id,
        "--org",
        world["org1"].public_id,
        "--type",
        "agent",
        "--json",
        *extra,
        stdout=out,
    )
    return json.loads(out.getvalue())


def test_the_command_gives_an_agent_key_what_it_can_use(world):
    assert _command(world)["scopes"] == ["scans:write"]
    with pytest.raises(CommandError, match="keys:write"):
        _command(world, "--scopes", "keys:write")


def test_the_command_without_scopes_gives_a_member_their_own_permissions(world):
    """SPEC §2a: a create without scopes gets the caller's own effective permissions (the
    command's old default ``*`` refused every non-owner)."""
    out = StringIO()
    call_command(
        "create_api_key",
        "--user",
        world["member"].email,
        "--tenant",
        world["tenant"].public_id,
        "--org",
        world["org1"].public_id,
        "--json",
        stdout=out,
    )
    key = ApiKey.objects.get(public_id=json.loads(out.getvalue())["id"])
    assert key.scopes != ["*"] and key.owner == world["member"]
