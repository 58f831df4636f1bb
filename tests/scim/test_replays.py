"""Replays of Entra ID's and Okta's provisioning request sequences (tests/scim/fixtures/,
written from their public documentation): create, update, group push and membership,
deactivate, reactivate, delete. After each step, Tater's state is checked too: the
account, the role the mapped group grants, and whether the person's API key works.

A fixture step is either a SCIM request (``method``, ``path``, ``body``; ``status``,
``expect``: a subset of the answer, ``absent``: keys the answer must not have, ``save``:
answer fields to reuse as ``{name}``, ``state``: Tater's state after it) or an action of
the tenant owner in Tater (``{"tater": "map_group"}``) or of the person
(``{"tater": "create_key"}``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from orgs.models import OrgMembership
from scim.models import ScimGroup
from scim.services import groups as group_services
from tests.factories import make_key
from tests.scim.conftest import Directory
from tests.scim.test_lifecycle import key_status

FIXTURES = Path(__file__).parent / "fixtures"
User = get_user_model()


def _fill(value: Any, saved: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, found in saved.items():
            value = value.replace("{" + name + "}", found)
        return value
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    return value


def _contains(actual: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing in {actual!r}"
            _contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _contains(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


class Replay:
    def __init__(self, directory: Directory, fixture: dict[str, Any]) -> None:
        self.d = directory
        self.email = fixture["account"]
        self.saved: dict[str, str] = {}
        self.key: str | None = None
        self.org = directory.orgs[0]

    def tater(self, step: dict[str, Any]) -> None:
        if step["tater"] == "map_group":
            group = ScimGroup.objects.get(public_id=_fill(step["group"], self.saved))
            group_services.scim_group_map(group=group, organization=self.org, role=step["role"], actor=self.d.owner)
        elif step["tater"] == "create_key":
            account = User.objects.get(email=self.email)
            _, self.key = make_key(user=account, tenant=self.d.tenant, org=self.org, name="integration")
            assert key_status(self.key)[0] == 200
        else:
            raise AssertionError(f"unknown Tater action {step['tater']!r}")

    def request(self, step: dict[str, Any]) -> None:
        name = step["name"]
        path = _fill(step["path"], self.saved)
        body = _fill(step.get("body"), self.saved)
        method = step["method"]
        if method == "GET":
            path, _, query = path.partition("?")
            response = self.d.scim.get(path, QUERY_STRING=query)
        elif method == "DELETE":
            response = self.d.scim.delete(path)
        else:
            response = self.d.scim.send(method, path, body)
        assert response.status_code == step["status"], f"{name}: {response.status_code} {response.content[:500]!r}"
        data = response.json() if response.content else None
        if "expect" in step:
            _contains(data, _fill(step["expect"], self.saved), name)
        for key in step.get("absent", []):
            assert key not in data, f"{name}: {key} should not be returned"
        for alias, field in step.get("save", {}).items():
            self.saved[alias] = data[field]
        if "state" in step:
            self.check(name, step["state"])

    def check(self, name: str, state: dict[str, Any]) -> None:
        account = User.objects.get(email=self.email)
        if "account_active" in state:
            assert account.is_active is state["account_active"], f"{name}: account active"
        if "org_role" in state:
            role = (
                OrgMembership.objects.filter(user=account, organization=self.org).values_list("role", flat=True).first()
            )
            assert role == state["org_role"], f"{name}: org role {role!r}"
        if "first_name" in state:
            assert account.first_name == state["first_name"], f"{name}: first name"
        if "last_name" in state:
            assert account.last_name == state["last_name"], f"{name}: last name"
        if "key" in state:
            assert self.key is not None
            assert key_status(self.key)[0] == state["key"], f"{name}: API key"


@pytest.mark.django_db
@pytest.mark.parametrize("fixture_name", ["entra_id.json", "okta.json"])
def test_replay(acme: Directory, fixture_name: str) -> None:
    fixture = json.loads((FIXTURES / fixture_name).read_text())
    replay = Replay(acme, fixture)
    for step in fixture["steps"]:
        if "tater" in step:
            replay.tater(step)
        else:
            replay.request(step)
    # Every SCIM write of the replay was audited in the scim channel, by the token.
    from audit.models import AuditEvent

    writes = sum(1 for s in fixture["steps"] if s.get("method") in ("POST", "PUT", "PATCH", "DELETE"))
    scim_rows = AuditEvent.objects.filter(channel="scim", action__startswith="scim_", api_key_id=acme.token.public_id)
    assert scim_rows.count() == writes
