"""Review s35: text that came from the network never drives the user's terminal. A hostile
or compromised server (or anyone who can put text into a key name, an audit entry's user
agent, a scan's findings) must not reach the terminal with ESC/CSI sequences, OSC 8 links,
BEL, backspace, a carriage return overwriting the line, C1 controls or bidi overrides:
the CLI prints them escaped (visible, inert). ``--json`` output is JSON-escaped already.

A loopback HTTP server plays the hostile server; expectations come from the README.
"""

from __future__ import annotations

import io
import json
import sys
import unicodedata
from collections.abc import Iterator

import pytest
from tater_client.cli import main

from tests.client.servers import KEY, serving

EVIL = "ok\x1b[2J\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07\x08\x08\rOVERWRITTEN\x9b31m\u202eevil\x00\x7f"
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _terminal_controls(text: str) -> list[str]:
    return [
        char for char in text if char != "\n" and (unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in BIDI)
    ]


def _key(key_id: str = "key-1") -> dict[str, object]:
    return {"id": key_id, "name": EVIL, "type": "standard", "prefix": "tater_3fd8", "status": EVIL, "scopes": [EVIL]}


CSV = ("id,action,user_agent\r\nevt-1,api_key.created," + EVIL + "\r\nevt-2,ok,caf\u00e9\r\n").encode()
ANSWERS: dict[str, tuple[int, object, dict[str, str]]] = {
    "/api/v1/keys/forbidden/": (
        403,
        {"error": "PERMISSION_DENIED" + EVIL, "message": EVIL, "details": {"required_permissions": [EVIL]}},
        {},
    ),
    "/api/v1/keys/invalid/": (
        400,
        {"error": "VALIDATION_ERROR", "message": EVIL, "details": {"fields": {EVIL: [EVIL]}}, "request_id": EVIL},
        {},
    ),
    "/api/v1/keys/moved/": (302, b"", {"Location": "https://x.example/\xc2\x9b2J"}),
    "/api/v1/keys/key-1/": (200, _key(), {}),
    "/api/v1/keys/key-1/rotate/": (200, {**_key(), "key": "tater_" + "2" * 32, "notice": EVIL}, {}),
    "/api/v1/keys/key-1/revoke/": (200, _key(), {}),
    "/api/v1/keys/": (200, {"keys": [_key()], "total": 3, "limit": 1, "offset": 0}, {}),
    "/api/v1/audit-log/": (
        200,
        {
            "entries": [
                {
                    "id": "evt-1",
                    "time": "2026-01-01T00:00:00Z",
                    "channel": EVIL,
                    "action": EVIL,
                    "actor": {"email": EVIL},
                    "key_id": EVIL,
                    "target": {"type": EVIL, "id": EVIL},
                }
            ],
            "next_cursor": EVIL,
            "limit": 1,
        },
        {},
    ),
    "/api/v1/scans/scan-1/": (
        200,
        {
            "id": "scan-1",
            "scanner": EVIL,
            "target": EVIL,
            "severity_counts": {EVIL: 1},
            "uploaded_by": {"user": EVIL},
            "findings": [{"severity": EVIL, "title": EVIL, "host": EVIL, "cve": EVIL}],
        },
        {},
    ),
    "csv": (200, CSV, {"Content-Type": "text/csv"}),
}


def _hostile_answer(path_and_query: str) -> tuple[int, bytes, dict[str, str]]:
    path = "csv" if "format=csv" in path_and_query else path_and_query.split("?")[0]
    status, body, headers = ANSWERS.get(path, (404, {"error": "NOT_FOUND"}, {}))
    return status, body if isinstance(body, bytes) else json.dumps(body).encode(), headers


@pytest.fixture
def hostile() -> Iterator[str]:
    with serving(_hostile_answer) as url:
        yield url


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (["keys", "get", "forbidden"], 1),
        (["keys", "get", "invalid"], 1),
        (["keys", "get", "moved"], 1),
        (["keys", "get", "key-1"], 0),
        (["keys", "list", "--limit", "1"], 0),
        (["keys", "rotate", "key-1"], 0),
        (["keys", "revoke", "key-1"], 0),
        (["audit", "list"], 0),
        (["scans", "get", "scan-1"], 0),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_no_terminal_control_from_the_server_reaches_the_terminal(
    command, status, as_json, hostile, monkeypatch, capsys
):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", hostile, *(["--json"] if as_json else []), *command]) == status
    out, err = capsys.readouterr()
    assert _terminal_controls(out) == [] and _terminal_controls(err) == [], (out, err)
    assert "Traceback" not in err


def test_the_escaped_text_stays_visible(hostile, monkeypatch, capsys):
    """Escaped, not dropped: the user sees that the server sent something odd."""
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", hostile, "keys", "get", "forbidden"]) == 1
    err = capsys.readouterr().err
    assert "\\x1b[2J" in err and "click" in err and "OVERWRITTEN" in err


class _Terminal(io.StringIO):
    """stdout as a terminal: text, with the ``buffer`` the CLI writes raw bytes to."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = io.BytesIO()

    def isatty(self) -> bool:
        return True


def test_the_csv_export_to_a_terminal_is_escaped(hostile, monkeypatch):
    """Anyone who can send a User-Agent ends up in the audit log: on a terminal the export
    keeps its lines and escapes the rest."""
    monkeypatch.setenv("TATER_API_KEY", KEY)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert main(["--url", hostile, "audit", "export", "--since", "2026-01-01"]) == 0
    shown = terminal.getvalue() + terminal.buffer.getvalue().decode("utf-8", "replace")
    assert _terminal_controls(shown) == [], shown
    assert shown.splitlines()[0] == "id,action,user_agent" and shown.splitlines()[2] == "evt-2,ok,caf\u00e9"
    assert "\\x1b[2J" in shown


def test_the_csv_export_to_a_pipe_is_the_servers_bytes(hostile, monkeypatch, capsysbinary):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", hostile, "audit", "export", "--since", "2026-01-01"]) == 0
    assert capsysbinary.readouterr().out == CSV
