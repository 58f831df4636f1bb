"""Review s46: the library has ``keys.usage_history`` (``GET keys/{id}/usage/``, README
"Endpoints": hourly requests and errors, ``?hours=`` / ``?days=``) but the ``tater`` command had
no way to show it: ``tater keys usage KEY_ID`` was a usage error (exit 2), so an operator
checking whether a key is still used went to Python or curl.
"""

from __future__ import annotations

import json

import pytest
from tater_client.cli import main


@pytest.fixture
def cli(acme, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--url", acme.url, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def used_key(acme, connect):
    key, raw = acme.key(scopes=["scans:read"], name="charted")
    used = connect(raw)
    used.validate()
    used.validate()
    with pytest.raises(Exception):
        used.keys.list()  # no keys:read: a 403, counted as an error
    return key


def test_keys_usage_shows_the_totals_and_the_hours(cli, used_key):
    code, out, err = cli("keys", "usage", used_key.public_id, "--hours", "3")
    assert code == 0, err
    assert used_key.public_id in out
    assert "3 requests" in out and "1 error" in out
    hour_rows = [line for line in out.splitlines() if line[:4].isdigit() and "T" in line[:20]]
    assert len(hour_rows) == 3  # one row per hour, oldest first
    assert hour_rows[0] < hour_rows[-1]


def test_keys_usage_json_is_the_apis(cli, used_key):
    code, out, _ = cli("keys", "usage", used_key.public_id, "--days", "2", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["key_id"] == used_key.public_id
    assert body["totals"] == {"requests": 3, "errors": 1}
    assert len(body["buckets"]) >= 24


def test_keys_usage_errors(cli, acme):
    code, _, err = cli("keys", "usage", acme.owner_key.public_id, "--hours", "0")
    assert code == 1 and "VALIDATION_ERROR" in err
    code, _, err = cli("keys", "usage", "key-00000000-0000-4000-8000-000000000000")
    assert code == 1 and "NOT_FOUND" in err
    with pytest.raises(SystemExit) as exited:
        cli("keys", "usage", acme.owner_key.public_id, "--hours", "3", "--days", "1")
    assert exited.value.code == 2  # one window, not two
