"""Review s48: the ``tater`` command's text output spells date-times as the rest of the product
does, in UTC ending in ``Z`` (README "Endpoints": ``2024-01-01T00:00:00Z``; "Operators": the
``manage.py`` commands print dates "in UTC ending in `Z`, as the API writes them"), not Python's
``+00:00``. ``--json`` stays the API's own JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tater_client.cli import main

EXPIRES = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)


def _field(out: str, name: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith(f"{name}:"))
    return line.split(":", 1)[1].strip()


def test_a_key_shown_as_text_writes_its_dates_ending_in_z(acme, monkeypatch, capsys):
    key, _ = acme.key(expires_at=EXPIRES, name="dated")
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)

    assert main(["--url", acme.url, "keys", "get", key.public_id]) == 0
    out = capsys.readouterr().out
    assert _field(out, "expires") == "2031-05-06T07:08:09Z"
    created = _field(out, "created")
    assert created.endswith("Z") and datetime.fromisoformat(created.replace("Z", "+00:00")).tzinfo is not None
    assert "+00:00" not in out

    assert main(["--url", acme.url, "keys", "list"]) == 0
    table = capsys.readouterr().out
    assert "2031-05-06T07:08:09Z" in table and "+00:00" not in table

    assert main(["--url", acme.url, "--json", "keys", "get", key.public_id]) == 0
    assert json.loads(capsys.readouterr().out)["expires_at"] == "2031-05-06T07:08:09Z"  # the API's own


def test_a_used_up_key_says_when_its_uses_come_back_ending_in_z(acme, monkeypatch, capsys):
    _, raw = acme.key(usage_limit=1, usage_refill="monthly", name="trial")
    monkeypatch.setenv("TATER_API_KEY", raw)
    assert main(["--url", acme.url, "validate"]) == 0
    capsys.readouterr()

    assert main(["--url", acme.url, "keys", "list"]) == 1
    err = capsys.readouterr().err
    now = datetime.now(UTC)
    month = (now.year + now.month // 12, now.month % 12 + 1)
    assert f"resets at {month[0]:04d}-{month[1]:02d}-01T00:00:00Z" in err
    assert "+00:00" not in err
