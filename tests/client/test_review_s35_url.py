"""Review s35: a server URL the client cannot use (no scheme, another scheme, no host) is a
mistake in the configuration, said at once (``ValueError``; the CLI: exit 2, usage), not a
``CONNECTION_ERROR`` after three attempts and their backoff (exit 1, "the API refused")."""

from __future__ import annotations

import httpx
import pytest
from tater_client import Tater
from tater_client.cli import main

KEY = "tater_" + "3fd88c926edd3a6f66a925de7df4cfe4"


@pytest.mark.parametrize("url", ["tater.example.com", "ftp://tater.example.com", "https://", "file:///etc/passwd"])
def test_a_url_that_is_not_http_or_https_is_refused_before_anything_is_sent(url):
    seen: list[httpx.Request] = []
    with pytest.raises(ValueError, match="https://"):
        Tater(KEY, base_url=url, transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)))
    assert seen == []


@pytest.mark.parametrize("url", ["tater.example.com", "ftp://tater.example.com"])
def test_the_cli_says_so_as_a_usage_error(url, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", url, "validate"]) == 2
    err = capsys.readouterr().err
    assert "https://" in err and "CONNECTION_ERROR" not in err and KEY not in err


def test_a_url_httpx_cannot_parse_is_a_value_error(monkeypatch, capsys):
    with pytest.raises(ValueError, match="TATER_URL"):
        Tater(KEY, base_url="http://[::1")
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", "http://[::1", "validate"]) == 2
    assert "Traceback" not in capsys.readouterr().err
