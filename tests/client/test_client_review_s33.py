"""Review s33: the client and CLI seen by an attacker. Where the key may go, what a hostile
or broken answer can do to the caller, and what a script can rely on.

These tests talk to an in-process ``httpx.MockTransport`` (or a silent loopback socket):
they play the server's part, so no live server or database is needed. Expectations come
from the SPEC (sections 3, 5, 6) and the client's README, not from the client's code.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import httpx
import pytest
from tater_client import ALL_METHODS, RetryPolicy, Tater, TaterError, TransportError
from tater_client.cli import main

from tests.client.servers import BASE, KEY, Endless, serving


def _key_json(key_id: str = "key-1") -> dict[str, object]:
    return {"id": key_id, "name": "k", "type": "standard", "prefix": KEY[:10], "status": "active"}


class Recorder:
    """A fake Tater server: records every request and answers with ``respond``."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self._respond = respond or (lambda request: httpx.Response(200, json={**_key_json(), "key": KEY}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self._respond(request)

    def client(self, **options: object) -> Tater:
        tater = Tater(KEY, base_url=BASE, transport=httpx.MockTransport(self), **options)  # type: ignore[arg-type]
        tater._sleep = lambda seconds: None
        return tater


# --- the key goes to the configured server only (README: "the key is never sent to another host")


@pytest.mark.parametrize("url", ["https://evil.example/steal", "http://evil.example:8000/api/v1/keys/"])
def test_request_with_an_absolute_url_never_sends_the_key_elsewhere(url):
    server = Recorder()
    with server.client() as tater, pytest.raises((ValueError, TaterError)):
        tater.request("GET", url)
    assert all(request.url.host == "tater.example.com" for request in server.requests)


@pytest.mark.parametrize(
    "key_id",
    ["#", "k?x=1#", "..", "a/../../../audit-log", "../organizations/org-1/members/usr-2", "x/"],
)
def test_a_key_id_stays_one_path_segment_of_the_endpoint_it_names(key_id):
    """SPEC §5: ``POST keys/{id}/rotate/``. An id taken from untrusted input (an alert, a
    leak report) must not turn the rotation into another call on the server."""
    server = Recorder()
    with server.client() as tater:
        try:
            tater.keys.rotate(key_id)
        except ValueError:
            pass  # refused before anything was sent: fine too
    for request in server.requests:
        raw_path = request.url.raw_path.decode()
        assert raw_path.startswith("/api/v1/keys/") and raw_path.endswith("/rotate/"), raw_path
        segment = raw_path[len("/api/v1/keys/") : -len("/rotate/")]
        assert segment and "/" not in segment and segment not in {".", ".."}, raw_path
        assert request.url.query == b"" and request.method == "POST"


def test_scan_and_key_getters_stay_on_their_endpoints():
    server = Recorder()
    with server.client() as tater:
        for call in (lambda: tater.keys.get("../scans"), lambda: tater.scans.get("../keys/")):
            try:
                call()
            except (ValueError, TaterError, KeyError):
                pass
    paths = [request.url.raw_path.decode() for request in server.requests]
    assert not any(path in ("/api/v1/scans/", "/api/v1/keys/") for path in paths), paths


# --- a key that cannot go in a header is never echoed (SPEC §2: a key never appears in logs)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback listener that accepts and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.mark.parametrize("raw", [KEY + "\n" + "tater_" + "1" * 32, KEY[:12] + "\x1b" + KEY[12:], KEY + "\rX"])
def test_a_key_with_a_control_character_is_never_printed(raw, silent_server, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", raw)
    status = main(["--url", silent_server, "--timeout", "2", "validate"])
    out, err = capsys.readouterr()
    assert status != 0
    assert KEY[6:] not in out + err and KEY[12:] not in out + err, err


def test_a_key_with_a_control_character_is_not_in_the_exception(silent_server):
    raw = KEY + "\n" + "tater_" + "1" * 32
    with pytest.raises((ValueError, TaterError)) as caught:
        Tater(raw, base_url=silent_server, timeout=2, retry=RetryPolicy.disabled()).validate()
    assert KEY[6:] not in str(caught.value) and KEY[6:] not in repr(caught.value)


# --- odd headers and bodies from the server do not crash or exhaust the caller


@pytest.mark.parametrize("reset", ["1e30", "-1e30", "inf", "nan", "99999999999999"])
def test_an_out_of_range_rate_limit_reset_does_not_break_the_call(reset):
    """SPEC §6: every API response carries X-RateLimit-*; a value the platform cannot turn
    into a date must not make a successful call fail with a non-TaterError."""
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
    server = Recorder(lambda request: httpx.Response(200, json=_key_json(), headers=headers))
    with server.client() as tater:
        assert tater.keys.get("key-1").id == "key-1"


def test_an_out_of_range_reset_on_a_429_is_still_a_rate_limited_error():
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e30"}
    body = {"error": "RATE_LIMITED", "message": "Rate limit exceeded"}
    server = Recorder(lambda request: httpx.Response(429, json=body, headers=headers))
    with server.client() as tater, pytest.raises(TaterError) as caught:
        tater.keys.get("key-1")
    assert caught.value.code == "RATE_LIMITED"


@pytest.mark.parametrize("status", [400, 502])
def test_a_huge_error_body_is_not_read_into_memory(status):
    stream = Endless(b'{"error": "VALIDATION_ERROR", "message": "', 512 << 20)
    server = Recorder(lambda request: httpx.Response(status, stream=stream))
    with server.client(retry=RetryPolicy.disabled()) as tater, pytest.raises(TaterError) as caught:
        tater.keys.get("key-1")
    assert caught.value.status == status
    assert stream.pulled < 16 << 20, stream.pulled


# --- non-idempotent writes are not sent twice (README: "a create, upload or rotation is never sent twice")


def test_a_create_whose_answer_timed_out_is_not_sent_again_even_with_all_methods():
    """The server may have minted the key before the answer was lost: sending the create
    again would mint a second key (and the first secret is gone). Only a refusal (429/503)
    or a connection never made is proof that it did not act."""
    posts: list[int] = []

    def respond(request: httpx.Request) -> httpx.Response:
        posts.append(1)
        if len(posts) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(201, json={**_key_json("key-2"), "key": "tater_" + "2" * 32})

    server = Recorder(respond)
    with server.client(retry=RetryPolicy(methods=ALL_METHODS)) as tater, pytest.raises(TransportError) as caught:
        tater.keys.create("siem")
    assert caught.value.code == "TIMEOUT"
    assert len(posts) == 1


def test_a_create_whose_connection_failed_is_retried_with_all_methods():
    calls: list[int] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={**_key_json("key-2"), "key": "tater_" + "2" * 32})

    server = Recorder(respond)
    with server.client(retry=RetryPolicy(methods=ALL_METHODS)) as tater:
        assert tater.keys.create("siem").id == "key-2"
    assert len(calls) == 2


def test_a_get_that_timed_out_is_still_retried():
    calls: list[int] = []

    def respond(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=_key_json())

    server = Recorder(respond)
    with server.client() as tater:
        assert tater.keys.get("key-1").id == "key-1"
    assert len(calls) == 2


# --- the CLI's exit codes and errors a script can rely on (README: 0 done, 1 refused, 2 usage;
# --json: errors as the API's JSON on stderr)


@pytest.fixture
def not_tater() -> Iterator[str]:
    """A loopback server answering 200 ``{"hello": "world"}`` to everything: TATER_URL
    naming some other JSON service."""
    with serving(lambda path: (200, b'{"hello": "world"}', {})) as url:
        yield url


@pytest.mark.parametrize("command", [["keys", "get", "key-1"], ["keys", "rotate", "key-1"], ["scans", "get", "s-1"]])
def test_cli_against_a_server_that_is_not_tater_is_an_error_not_a_traceback(command, not_tater, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    status = main(["--url", not_tater, "--json", *command])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert "Traceback" not in err
    error = json.loads(err.strip().splitlines()[-1])
    assert set(error) >= {"error", "message", "details"} and error["error"]


def test_cli_validate_does_not_say_ok_when_the_answer_is_not_a_valid_key(not_tater, monkeypatch, capsys):
    """``tater validate && deploy``: exit 0 must mean the key is valid (SPEC §5 auth/validate)."""
    monkeypatch.setenv("TATER_API_KEY", KEY)
    status = main(["--url", not_tater, "validate"])
    assert status != 0


@pytest.mark.parametrize("key_id", ["..", "."])
def test_cli_a_bad_id_is_a_usage_error(key_id, not_tater, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", KEY)
    try:
        status = main(["--url", not_tater, "keys", "revoke", key_id])
    except SystemExit as exit:
        status = exit.code  # argparse
    out, err = capsys.readouterr()
    assert status == 2 and "Traceback" not in err


# --- Plain http:// to another machine ------------------------------------------------------
# SPEC §2: a key is a secret. Over plain http:// to a remote host it crosses the network in the
# clear, before any redirect to https:// could refuse it. Loopback (the embedded default, a
# local proxy) needs no TLS; elsewhere plain http is an explicit choice.


@pytest.mark.parametrize("url", ["http://tater.example.com", "http://10.0.0.5:8000", "HTTP://tater.example.com/api/v1"])
def test_plain_http_to_another_machine_is_refused_before_anything_is_sent(url: str, monkeypatch) -> None:
    monkeypatch.delenv("TATER_ALLOW_INSECURE_HTTP", raising=False)
    seen: list[httpx.Request] = []
    with pytest.raises(ValueError, match="https://") as refused:
        Tater(KEY, base_url=url, transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)))
    assert KEY not in str(refused.value)
    assert seen == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", BASE])
def test_loopback_and_https_need_no_permission(url: str, monkeypatch) -> None:
    monkeypatch.delenv("TATER_ALLOW_INSECURE_HTTP", raising=False)
    Tater(KEY, base_url=url, transport=httpx.MockTransport(lambda r: httpx.Response(200))).close()


def test_plain_http_elsewhere_is_an_explicit_choice(monkeypatch) -> None:
    monkeypatch.delenv("TATER_ALLOW_INSECURE_HTTP", raising=False)
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"valid": True}))
    Tater(KEY, base_url="http://tater.internal", allow_insecure_http=True, transport=transport).close()
    monkeypatch.setenv("TATER_ALLOW_INSECURE_HTTP", "1")
    Tater(KEY, base_url="http://tater.internal", transport=transport).close()


def test_the_cli_refuses_plain_http_elsewhere_as_a_usage_error(monkeypatch, capsys) -> None:
    from tater_client.cli import main

    monkeypatch.delenv("TATER_ALLOW_INSECURE_HTTP", raising=False)
    monkeypatch.setenv("TATER_API_KEY", KEY)
    assert main(["--url", "http://tater.example.com", "validate"]) == 2
    err = capsys.readouterr().err
    assert "https://" in err and KEY not in err


# --- Audit paging and export files -----------------------------------------------------------


def _audit_entry(n: int) -> dict[str, object]:
    return {"id": f"evt-{n}", "time": "2026-12-01T00:00:00Z", "channel": "api", "action": "api_key.created"}


def test_audit_iteration_stops_when_the_server_repeats_a_cursor():
    # A broken (or hostile) server answering the same page and cursor forever must not make
    # audit.iter() loop forever: a cursor that leads back to itself is not Tater's answer.
    server = Recorder(lambda request: httpx.Response(200, json={"entries": [_audit_entry(1)], "next_cursor": "c1"}))
    with server.client() as tater, pytest.raises(TaterError) as refused:
        for _ in zip(tater.audit.iter(), range(100), strict=False):
            pass
    assert refused.value.code == "INVALID_RESPONSE"
    assert len(server.requests) <= 3


def test_the_export_file_is_private_and_a_planted_part_link_is_not_followed(tmp_path):
    csv = b"time,action\n2026-12-01,api_key.created\n"
    server = Recorder(lambda request: httpx.Response(200, content=csv, headers={"Content-Type": "text/csv"}))
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    target = tmp_path / "audit.csv"
    (tmp_path / "audit.csv.part").symlink_to(victim)  # planted beside the export in a shared directory
    with server.client() as tater:
        assert tater.audit.export_to(target) == len(csv)
    assert victim.read_bytes() == b"precious"
    assert target.read_bytes() == csv and not target.is_symlink()
    assert target.stat().st_mode & 0o077 == 0  # emails and addresses: the owner's alone


def test_a_base_url_carrying_a_password_is_refused_without_repeating_it(monkeypatch) -> None:
    # The key authenticates; a user:password in the URL would only be shown again (repr,
    # error messages, logs) and sent to the server as Basic credentials beside the key.
    monkeypatch.delenv("TATER_ALLOW_INSECURE_HTTP", raising=False)
    with pytest.raises(ValueError) as refused:
        Tater(
            KEY,
            base_url="https://ops:hunter2@tater.example.com",
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )
    assert "hunter2" not in str(refused.value) and KEY not in str(refused.value)
