"""Review s44: usage-limited keys and key metadata (SPEC §14; README "Leaked and worn keys":
``usage_limit``, ``usage_refill``, ``metadata`` on create and PATCH; validate and the key API
show ``usage: {limit, remaining, refill, resets_at}`` and ``metadata``) through the client.
Before, ``keys.create(usage_limit=...)`` was a ``TypeError``: an integrator handing out trial
keys had to fall back to ``tater.request`` and read ``.raw``.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from tater_client import PermissionDenied, ValidationError


def test_create_a_usage_limited_key_with_metadata_and_read_it_back(tater, connect):
    issued = tater.keys.create(
        "trial", scopes=["scans:read"], usage_limit=3, usage_refill="monthly", metadata={"customer": "c-42"}
    )
    assert issued.usage_limit == 3 and issued.usage_refill == "monthly"
    assert issued.metadata == {"customer": "c-42"}
    assert issued.usage is not None and (issued.usage.limit, issued.usage.remaining) == (3, 3)
    assert issued.usage.refill == "monthly" and isinstance(issued.usage.resets_at, datetime)

    info = connect(issued.key).validate()
    assert info.metadata == {"customer": "c-42"}
    assert info.usage is not None and info.usage.remaining == 2  # this request took one

    fetched = tater.keys.get(issued.id)
    assert fetched.usage is not None and fetched.usage.remaining == 2


def test_an_unlimited_key_has_no_usage(tater):
    issued = tater.keys.create("plain", scopes=["scans:read"])
    assert issued.usage is None and issued.usage_limit is None and issued.metadata == {}
    assert tater.validate().usage is None


def test_update_tightens_the_limit_and_replaces_metadata(tater):
    issued = tater.keys.create("trial", scopes=["scans:read"], usage_limit=10, usage_refill="daily")
    changed = tater.keys.update(issued.id, usage_limit=5, metadata={"tier": 1})
    assert changed.usage_limit == 5 and changed.usage_refill == "daily" and changed.metadata == {"tier": 1}
    cleared = tater.keys.update(issued.id, metadata=None)
    assert cleared.metadata == {} and cleared.usage_limit == 5
    # Removing the limit widens the key: the owner's signed-in session only (README).
    with pytest.raises(PermissionDenied):
        tater.keys.update(issued.id, usage_limit=None)


def test_a_bad_refill_names_the_field(tater):
    with pytest.raises(ValidationError) as caught:
        tater.keys.create("trial", usage_limit=3, usage_refill="weekly")
    assert list(caught.value.fields) == ["usage_refill"]


def test_the_cli_creates_a_usage_limited_key_and_shows_its_uses(acme, monkeypatch, capsys):
    from tater_client.cli import main

    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    args = [
        "keys",
        "create",
        "--name",
        "trial",
        "--scopes",
        "scans:read",
        "--usage-limit",
        "7",
        "--usage-refill",
        "daily",
    ]
    assert main(["--url", acme.url, "--json", *args]) == 0
    created = __import__("json").loads(capsys.readouterr().out)
    assert (created["usage_limit"], created["usage_refill"]) == (7, "daily")
    assert main(["--url", acme.url, "keys", "get", created["id"]]) == 0
    assert "7 of 7 (daily)" in capsys.readouterr().out
