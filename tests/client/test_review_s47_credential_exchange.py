"""Review s47: SPEC §5 "``POST auth/token`` — credential exchange for scripts: email +
password (+ OTP code when the user has 2FA) → a new API key", but the Python client could
not do it: ``Tater()`` needs a key, and the ``tater`` command refused to start without
``TATER_API_KEY``. A script that bootstraps its own key went to curl.

What the script author sees: a key that works at ``/api/v1/auth/validate``; the API's
refusals (SPEC §3 catalog: ``INVALID_CREDENTIALS``, ``INVALID_OTP``, ``MFA_REQUIRED``,
``AMBIGUOUS_ORG``) as the client's exceptions and the command's exit codes; the code asked
for when the account has 2FA; a POST that creates a key sent once; the password never in
the command line, the output or an exception's text.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable

import httpx
import pytest
from tater_client import (
    AmbiguousOrg,
    AuthenticationError,
    InvalidOtp,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    Tater,
    TaterError,
)
from tater_client.cli import main

from tests.accounts.conftest import enrol
from tests.factories import PASSWORD

BASE = "https://tater.example.com"


def validate_status(url: str, key: str) -> tuple[int, dict]:
    response = httpx.get(f"{url}/api/v1/auth/validate", headers={"X-API-Key": key})
    return response.status_code, response.json()


def exchange(acme, **kwargs) -> object:
    kwargs.setdefault("email", acme.owner.email)
    kwargs.setdefault("password", PASSWORD)
    return Tater.exchange_credentials(acme.url, **kwargs)


def test_the_owners_password_becomes_a_key_that_works(acme):
    issued = exchange(acme, organization_id=acme.org.public_id, name="nightly export")
    status, body = validate_status(acme.url, issued.key)
    assert status == 200 and body["valid"] is True
    assert body["id"] == issued.id and body["name"] == "nightly export"
    assert issued.organization_id == acme.org.public_id
    assert issued.headers == {"X-API-Key": issued.key} and "only time" in issued.notice
    assert issued.key not in repr(issued) and PASSWORD not in repr(issued)
    # The key it gives works with the client at once.
    with Tater(issued.key, base_url=acme.url) as tater:
        assert tater.validate().id == issued.id


def test_a_wrong_password_is_the_catalog_code_without_the_password(acme):
    wrong = "not-the-password-4711"
    with pytest.raises(AuthenticationError) as caught:
        exchange(acme, password=wrong, organization_id=acme.org.public_id)
    assert (caught.value.code, caught.value.status) == ("INVALID_CREDENTIALS", 401)
    assert wrong not in str(caught.value) + repr(caught.value) + json.dumps(caught.value.details)


def test_two_org_account_must_name_one(acme):
    with pytest.raises(AmbiguousOrg) as caught:
        exchange(acme)
    assert caught.value.code == "AMBIGUOUS_ORG"


def test_a_2fa_account_is_asked_for_the_code_then_gets_its_key(acme):
    _, recovery_codes = enrol(acme.owner)  # its TOTP code is spent: a recovery code is the code
    org = acme.org.public_id
    with pytest.raises(InvalidOtp) as caught:
        exchange(acme, organization_id=org)
    assert (caught.value.code, caught.value.status) == ("INVALID_OTP", 401)
    assert caught.value.retry_after is None  # not throttled: the code is what is missing
    issued = exchange(acme, organization_id=org, code=recovery_codes[0])
    assert validate_status(acme.url, issued.key)[0] == 200


def test_a_tenant_requiring_2fa_refuses_an_unenrolled_owner(acme):
    acme.tenant.require_2fa = True
    acme.tenant.save(update_fields=["require_2fa"])
    with pytest.raises(PermissionDenied) as caught:
        exchange(acme, organization_id=acme.org.public_id)
    assert caught.value.code == "MFA_REQUIRED"


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [(503, "SERVICE_UNAVAILABLE", ServiceUnavailable), (429, "RATE_LIMITED", RateLimited)],
)
def test_the_post_that_creates_a_key_is_sent_once(status, code, error):
    sent: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status, json={"error": code, "message": "later"}, headers={"Retry-After": "0"})

    with pytest.raises(error):
        Tater.exchange_credentials(
            BASE, email="o@example.com", password=PASSWORD, transport=httpx.MockTransport(respond)
        )
    assert len(sent) == 1
    request = sent[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/auth/token")
    assert "X-API-Key" not in request.headers
    # The password travels in the body only, never in the URL (access logs, httpx's log line).
    assert PASSWORD not in str(request.url)
    assert json.loads(request.content) == {"email": "o@example.com", "password": PASSWORD}


def test_the_password_is_not_sent_unencrypted_to_another_machine():
    with pytest.raises(ValueError, match="password") as caught:
        Tater.exchange_credentials("http://tater.example.com", email="o@example.com", password=PASSWORD)
    assert PASSWORD not in str(caught.value)


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def cli(acme, monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """Runs ``tater`` with no TATER_API_KEY; ``answers`` are what the prompts get, in order."""
    monkeypatch.delenv("TATER_API_KEY", raising=False)
    monkeypatch.delenv("TATER_PASSWORD", raising=False)
    monkeypatch.delenv("TATER_OTP_CODE", raising=False)

    def run(*argv: str, answers: tuple[str, ...] = (), prompts: list[str] | None = None) -> tuple[int, str, str]:
        queue = list(answers)

        def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
            if prompts is not None:
                prompts.append(prompt)
            if not queue:
                raise EOFError
            return queue.pop(0)

        monkeypatch.setattr(getpass, "getpass", fake_getpass)
        code = main(["--url", acme.url, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_the_command_prints_the_new_key_once_without_an_api_key(acme, cli):
    prompts: list[str] = []
    argv = ("auth", "token", "--email", acme.owner.email, "--organization", acme.org.public_id, "--name", "ci")
    code, out, err = cli(*argv, answers=(PASSWORD,), prompts=prompts)
    assert code == 0, err
    assert len(prompts) == 1 and "assword" in prompts[0]
    key = next(line.split()[-1] for line in out.splitlines() if line.startswith("key:"))
    assert validate_status(acme.url, key)[0] == 200
    assert out.count(key) == 1 and key not in err and "only time" in err
    assert PASSWORD not in out + err + " ".join(argv)


def test_the_command_json_and_the_password_from_the_environment(acme, cli, monkeypatch):
    monkeypatch.setenv("TATER_PASSWORD", PASSWORD)
    prompts: list[str] = []
    code, out, err = cli(
        "auth", "token", "--email", acme.owner.email, "--org", acme.org.public_id, "--json", prompts=prompts
    )
    assert code == 0, err
    assert prompts == []  # nothing asked
    body = json.loads(out)
    assert validate_status(acme.url, body["key"])[0] == 200 and body["headers"] == {"X-API-Key": body["key"]}
    assert PASSWORD not in out + err


def test_the_command_asks_for_the_code_when_the_account_has_2fa(acme, cli):
    _, recovery_codes = enrol(acme.owner)  # its TOTP code is spent: a recovery code is the code
    prompts: list[str] = []
    code, out, err = cli(
        "auth",
        "token",
        "--email",
        acme.owner.email,
        "--organization",
        acme.org.public_id,
        answers=(PASSWORD, recovery_codes[0]),
        prompts=prompts,
    )
    assert code == 0, err
    assert len(prompts) == 2 and "code" in prompts[1].lower()
    key = next(line.split()[-1] for line in out.splitlines() if line.startswith("key:"))
    assert validate_status(acme.url, key)[0] == 200


def test_the_command_reports_a_wrong_password_without_it(acme, cli):
    wrong = "not-the-password-4711"
    code, out, err = cli("auth", "token", "--email", acme.owner.email, "--org", acme.org.public_id, answers=(wrong,))
    assert code == 1
    assert "INVALID_CREDENTIALS" in err and out == ""
    assert wrong not in out + err


def test_the_command_takes_no_password_argument(acme, cli):
    with pytest.raises(SystemExit) as exited:
        cli("auth", "token", "--email", acme.owner.email, "--password", PASSWORD)
    assert exited.value.code == 2


def test_the_command_without_a_password_is_a_usage_error(acme, cli):
    code, out, err = cli("auth", "token", "--email", acme.owner.email, "--org", acme.org.public_id)
    assert code == 2 and "TATER_PASSWORD" in err and out == ""


def test_the_errors_are_tater_errors():
    assert issubclass(InvalidOtp, AuthenticationError) and issubclass(InvalidOtp, TaterError)
