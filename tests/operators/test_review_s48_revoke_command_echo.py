"""SPEC §2 (a key never appears in error bodies; an operator's terminal and CI logs keep what a
command prints): ``revoke_api_key`` recognised a key pasted where its id goes only when the
argument was exactly the key. Pasted with the newline, a space or the quotes around it (as
copied from a leak report or a JSON file), it answered "No API key with id '<the key>…'",
printing the secret it was asked to revoke. Such an argument is now refused without
repeating it (a key by itself still names its id), and an unknown id is repeated at most 64
characters long."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaked() -> tuple[Any, str]:
    tenant, owner, (org,) = make_tenant()
    return make_key(user=owner, tenant=tenant, org=org, name="leaked")


@pytest.mark.parametrize("around", ["{} ", "{}\n", '"{}"', "'{}',", "X-API-Key: {}"])
def test_a_pasted_key_with_more_around_it_is_never_printed(leaked: tuple[Any, str], around: str) -> None:
    key, raw = leaked
    with pytest.raises(CommandError) as refused:
        call_command("revoke_api_key", around.format(raw), stdout=StringIO(), stderr=StringIO())
    assert raw not in str(refused.value)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("revoke_api_key", around.format(raw), "--json", stdout=out, stderr=err)
    assert raw not in out.getvalue() + err.getvalue()
    key.refresh_from_db()
    assert key.revoked_at is None  # nothing done: the operator runs it again with the id


def test_a_pasted_key_with_spaces_names_its_id(leaked: tuple[Any, str]) -> None:
    key, raw = leaked
    with pytest.raises(CommandError) as refused:
        call_command("revoke_api_key", f" {raw} ", stdout=StringIO(), stderr=StringIO())
    assert key.public_id in str(refused.value) and raw not in str(refused.value)


def test_an_unknown_id_is_repeated_short() -> None:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("revoke_api_key", "key-" + "k" * 3000, "--json", stdout=out, stderr=StringIO())
    message = json.loads(out.getvalue())["message"]
    assert len(message) < 200 and "key-kkkk" in message
