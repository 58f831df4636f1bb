"""Review s45: a key's secret pasted where its id goes (``tater keys revoke $TATER_API_KEY``,
``tater.audit.list(key=secret)``) was sent: in the URL path or the query string, where a
reverse proxy's access log and httpx's own INFO log line ("HTTP Request: GET .../keys/<the
secret>/") keep it (SPEC §2: a key never appears in logs). Ids are ``<kind>-<uuid>``; a
secret is ``<prefix><32 lowercase hex>``: the client now refuses it before anything is sent,
without repeating it.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from tater_client import RetryPolicy, Tater, ValidationError
from tater_client.cli import main


def _secret(prefix: str = "tater_") -> str:
    return prefix + secrets.token_hex(16)


@pytest.fixture
def offline():
    sent: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(404, json={"error": "NOT_FOUND", "message": "Not found."})

    client = Tater(
        _secret(), base_url="https://t.example", transport=httpx.MockTransport(respond), retry=RetryPolicy.disabled()
    )
    yield client, sent
    client.close()


@pytest.mark.parametrize("action", ["get", "revoke", "rotate", "deactivate", "activate", "update"])
def test_a_secret_as_a_key_id_is_never_sent(offline, action):
    client, sent = offline
    pasted = _secret("ak_")
    with pytest.raises(ValueError) as caught:
        getattr(client.keys, action)(pasted)
    assert not sent
    assert pasted not in str(caught.value) and pasted[-32:] not in str(caught.value)


@pytest.mark.parametrize("field", ["key", "target"])
def test_a_secret_as_an_audit_filter_is_never_sent(offline, field):
    client, sent = offline
    pasted = _secret("taapit_")
    with pytest.raises(ValidationError) as caught:
        client.audit.list(**{field: pasted})
    assert list(caught.value.fields) == [field]
    with pytest.raises(ValidationError):
        next(client.audit.export(**{field: pasted}))
    assert not sent
    assert pasted not in str(caught.value) and pasted not in str(caught.value.fields)


def test_ids_still_go_through(offline):
    client, sent = offline
    with pytest.raises(Exception):  # the mock's 404
        client.keys.get("key-3fd88c92-6edd-3a6f-66a9-25de7df4cfe4")
    assert len(sent) == 1


def test_the_cli_refuses_its_own_key_as_an_id(monkeypatch, capsys):
    own = _secret()
    monkeypatch.setenv("TATER_API_KEY", own)
    assert main(["--url", "http://127.0.0.1:9", "keys", "revoke", own]) == 2
    assert main(["--url", "http://127.0.0.1:9", "audit", "list", "--key", own]) in (1, 2)
    captured = capsys.readouterr()
    assert own not in captured.out + captured.err and own[-32:] not in captured.out + captured.err
    assert "CONNECTION_ERROR" not in captured.err  # refused before any connection
