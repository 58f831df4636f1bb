"""SPEC §2: "A key never appears in logs, admin, audit entries or error bodies". Found by
review A (s41): an operator answering a leak pastes the leaked key where ``revoke_api_key``
wants its id, and the command's error (on stderr and in ``--json``'s stdout, both kept by CI
runners and terminal scrollback) repeated the whole secret: "No API key with id
'tater_3fd8…'". It now says the value is a key itself without repeating it, names the key's
id when the secret is a key's, and revokes nothing (the id is what names a key to act on)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


def refused(*args: str) -> tuple[dict, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("revoke_api_key", *args, "--json", stdout=out, stderr=err)
    return json.loads(out.getvalue()), str(raised.value) + err.getvalue()


def test_a_key_pasted_for_its_id_is_not_repeated_and_its_id_is_named() -> None:
    tenant, owner, (org,) = make_tenant()
    key, raw = make_key(user=owner, tenant=tenant, org=org)
    answer, stderr = refused(raw)
    assert answer["error"] == "VALIDATION_ERROR"
    assert raw not in json.dumps(answer) and raw not in stderr
    assert key.public_id in answer["message"] and key.display_prefix in answer["message"]
    key.refresh_from_db()
    assert key.revoked_at is None


def test_an_unknown_key_is_not_repeated_either() -> None:
    unknown = "tater_" + "0123456789abcdef" * 2
    answer, stderr = refused(unknown)
    assert unknown not in json.dumps(answer) and unknown not in stderr
    assert answer["message"].startswith("That is an API key itself")


def test_guard_an_unknown_id_is_still_named() -> None:
    answer, _ = refused("key-nope")
    assert answer["message"] == "No API key with id 'key-nope'"
