"""Review s35: "Connection failed: [Errno 111] Connection refused" does not say where. An
integrator with TATER_URL from a CI variable needs the server named (never the key)."""

from __future__ import annotations

import socket

from tater_client import RetryPolicy, Tater, TransportError
from tater_client.cli import main

KEY = "tater_" + "3fd88c926edd3a6f66a925de7df4cfe4"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_connection_error_names_the_server(monkeypatch, capsys):
    url = f"http://127.0.0.1:{_closed_port()}"
    with Tater(KEY, base_url=url, retry=RetryPolicy.disabled(), timeout=2) as tater:
        try:
            tater.validate()
        except TransportError as exc:
            assert exc.code == "CONNECTION_ERROR" and url in str(exc) and KEY not in str(exc)
        else:
            raise AssertionError("no error")
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", url, "--timeout", "2", "validate"]) == 1
    assert url in capsys.readouterr().err
