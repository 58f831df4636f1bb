"""A SCIM token's name is shown in the tenant's SCIM settings, the Activity Log and the mail
sent when the token leaks, like the names of keys, organizations and tenants (tater.names).
It alone took any text: a line break, a terminal escape, a right-to-left override or a
zero-width space, from the API, the settings page and ``create_scim_token`` alike. Now each
of them refuses such a name (400 naming ``name``; the command's JSON error) and creates
nothing."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from scim.models import ScimToken

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/scim-tokens/"
BAD = ["Okta\nprovisioning", "Okta\x1b[2J", "Okta\tprod", "Entra \u202eatkO", "Ok\u200bta", "\u3164"]


def session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.parametrize("name", BAD, ids=ascii)
def test_the_api_refuses_a_name_that_does_not_read_as_written(acme: Any, name: str) -> None:
    before = ScimToken.objects.count()
    r = session(acme.owner).post(TOKENS, {"name": name}, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"] == "VALIDATION_ERROR" and list(r.json()["details"]["fields"]) == ["name"]
    assert ScimToken.objects.count() == before


@pytest.mark.parametrize("name", BAD, ids=ascii)
def test_the_command_refuses_it_too(acme: Any, name: str) -> None:
    before = ScimToken.objects.count()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("create_scim_token", "--tenant", acme.tenant.public_id, "--name", name, "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["error"] == "VALIDATION_ERROR" and "name" in answer["message"].lower()
    assert ScimToken.objects.count() == before


def test_a_written_name_is_taken(acme: Any) -> None:
    r = session(acme.owner).post(TOKENS, {"name": "  👩\u200d💻 Entra – prod  "}, format="json")
    assert r.status_code == 201, r.content
    assert ScimToken.objects.get(public_id=r.json()["id"]).name == "👩\u200d💻 Entra – prod"
