"""No secret reaches the logs (SPEC §12), through the full stack and at DEBUG level.

Real key secrets (issued, rotated, revoked, unknown, in ``Authorization`` headers),
passwords (right and wrong; JSON and form sign-in, password reset), 2FA codes and challenge
tokens, recovery codes, invitation and password-reset links, session cookies, and the
paths and query strings of requests that fail with a 500 (API view, page, database
outage) or are logged by a careless view: none of them appears in what the JSON and the
text formatter wrote. Every request got exactly one access line.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings
from rest_framework.test import APIClient

from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, UserFactory, mail_sent, make_key, make_tenant
from tests.operations.conftest import CapturedLogs

WRONG_PASSWORD = "Wr0ng-but-secret-" + secrets.token_hex(6)  # noqa: S105 - must never be logged
NEW_PASSWORD = "N3w-secret-passw0rd-" + secrets.token_hex(6)  # noqa: S105 - must never be logged


class Session:
    """A client that remembers every response's request id and every secret it meets."""

    def __init__(self, client: Client, secrets_seen: set[str], request_ids: list[str]) -> None:
        self.client, self.secrets, self.request_ids = client, secrets_seen, request_ids

    def __call__(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        response = getattr(self.client, method)(path, *args, **kwargs)
        self.request_ids.append(response["X-Request-ID"])
        for morsel in response.cookies.values():
            if morsel.key in ("sessionid", "csrftoken") and morsel.value:
                self.secrets.add(morsel.value)
        return response


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.operations.urls", TATER_LOCKOUT_CLIENT_FAILURES=1000)
def test_no_secret_reaches_the_logs(captured_logs: CapturedLogs, django_capture_on_commit_callbacks: Any) -> None:
    found: set[str] = {PASSWORD, WRONG_PASSWORD, NEW_PASSWORD}
    codes: set[str] = set()  # 6-digit OTP codes: searched for as whole numbers
    request_ids: list[str] = []
    api = Session(APIClient(raise_request_exception=False), found, request_ids)
    web = Session(Client(raise_request_exception=False), found, request_ids)

    tenant, owner, (org,) = make_tenant(name="Hygiene", orgs=1, plan="enterprise")
    _, owner_raw = make_key(user=owner, tenant=tenant, org=org, name="owner")
    found.add(owner_raw)

    # API keys: created, used, rotated, revoked, used again; unknown and malformed ones.
    created = api("post", "/api/v1/keys/", {"name": "made"}, format="json", HTTP_X_API_KEY=owner_raw)
    assert created.status_code == 201, created.content
    new_raw, new_id = created.json()["key"], created.json()["id"]
    found.add(new_raw)
    assert api("get", "/api/v1/auth/validate", HTTP_X_API_KEY=new_raw).status_code == 200
    rotated = api(
        "post", f"/api/v1/keys/{new_id}/rotate/", {"grace_period_seconds": 0}, format="json", HTTP_X_API_KEY=owner_raw
    )
    assert rotated.status_code == 200, rotated.content
    found.add(rotated.json()["key"])
    assert api("get", "/api/v1/auth/validate", HTTP_X_API_KEY=new_raw).json()["error"] == "KEY_REVOKED"
    assert api("post", f"/api/v1/keys/{new_id}/revoke/", {}, format="json", HTTP_X_API_KEY=owner_raw).status_code == 200
    assert api("get", "/api/v1/auth/validate", HTTP_X_API_KEY=rotated.json()["key"]).status_code == 401
    unknown, malformed = "tater_" + secrets.token_hex(16), "tater_" + secrets.token_urlsafe(24)
    found.update({unknown, malformed})
    for raw in (unknown, malformed):
        assert api("get", "/api/v1/keys/", HTTP_X_API_KEY=raw).status_code == 401
    # Authorization header with a real key (bearer keys off: refused) and an IdP-looking token.
    jwt = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(30) + "." + secrets.token_urlsafe(40)
    found.update({owner_raw, jwt})
    assert api("get", "/api/v1/keys/", HTTP_AUTHORIZATION=f"Bearer {owner_raw}").status_code == 401
    assert api("get", "/api/v1/keys/", HTTP_AUTHORIZATION=f"Bearer {jwt}").status_code == 401

    # Passwords and 2FA through the JSON sign-in: wrong password, right password + right code,
    # right password + wrong code.
    user = UserFactory(email="hygiene@example.com")
    device, recovery = enrol(user)
    found.update(recovery)
    assert (
        api("post", "/api/v1/auth/login", {"email": user.email, "password": WRONG_PASSWORD}, format="json").status_code
        == 401
    )
    challenge = api("post", "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()
    found.add(challenge["token"])
    right = totp_code(device, time.time() + device.step)  # the next step: enrolment used this one
    codes.add(right)
    verified = api("post", "/api/v1/auth/verify-2fa", {"token": challenge["token"], "code": right}, format="json")
    assert verified.status_code == 200, verified.content
    wrong = next(c for c in (f"{secrets.randbelow(10**6):06d}" for _ in range(10)) if c != right)
    codes.add(wrong)
    second = api("post", "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()
    found.add(second["token"])
    assert (
        api("post", "/api/v1/auth/verify-2fa", {"token": second["token"], "code": wrong}, format="json").status_code
        == 401
    )
    assert api("get", "/api/v1/me").status_code == 200  # the session cookie, used

    # The sign-in form: wrong then right password.
    plain = UserFactory(email="forms@example.com")
    assert web("post", "/accounts/login/", {"login": plain.email, "password": WRONG_PASSWORD}).status_code == 200
    assert web("post", "/accounts/login/", {"login": plain.email, "password": PASSWORD}).status_code == 302
    assert web("get", "/").status_code < 500

    # An invitation link, opened, and a forged one.
    with django_capture_on_commit_callbacks(execute=True):
        invited = api(
            "post",
            f"/api/v1/organizations/{org.public_id}/members/",
            {"email": "invited@example.com", "role": "member"},
            format="json",
            HTTP_X_API_KEY=owner_raw,
        )
    assert invited.status_code == 201, invited.content
    link = re.search(r"http://testserver(/invitations/([^/\s]+)/)", mail.outbox[-1].body)
    found.add(link.group(2))
    anonymous = Session(Client(), found, request_ids)
    assert anonymous("get", link.group(1)).status_code == 302
    forged = secrets.token_urlsafe(32)
    found.add(forged)
    assert anonymous("get", f"/invitations/{forged}/").status_code in (302, 404)

    # A password reset: the link, then the new password.
    reset_user = UserFactory(email="reset-hygiene@example.com")
    resetting = Session(Client(), found, request_ids)
    with mail_sent():
        assert resetting("post", "/accounts/password/reset/", {"email": reset_user.email}).status_code == 302
    reset_path = re.search(r"https?://[^/]+(/accounts/password/reset/key/(\S+?)/)", mail.outbox[-1].body)
    found.add(reset_path.group(2))
    form_page = resetting("get", reset_path.group(1))
    action = form_page.url if form_page.status_code == 302 else reset_path.group(1)
    found.add(action.rstrip("/").rsplit("/", 1)[-1])
    done = resetting("post", action, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302, done.content[:300]

    # 500s and an outage with secrets in the path and query string, and a careless view.
    in_path, in_query = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    found.update({in_path, in_query})
    failed = api(
        "get",
        f"/api/v1/ops-test/boom/{in_path}/?token={in_query}",
        HTTP_X_API_KEY=owner_raw,
        HTTP_AUTHORIZATION=f"Bearer {owner_raw}",
    )
    assert failed.status_code == 500 and failed.json()["error"] == "INTERNAL_ERROR"
    assert web("get", f"/ops-test/boom/{in_path}/?token={in_query}").status_code == 500
    assert web("get", f"/ops-test/outage/{in_path}/?reset={in_query}").status_code == 503
    assert (
        web(
            "get", f"/ops-test/careless/{in_path}/?next={in_query}", HTTP_AUTHORIZATION=f"Bearer {owner_raw}"
        ).status_code
        == 200
    )

    # --- What the formatters wrote ------------------------------------------------------------
    text = captured_logs.everything()
    lines = captured_logs.json_lines()
    loggers = {line["logger"] for line in lines}
    # The error paths did log (with their tracebacks), so the absence below means something.
    assert {"tater.api", "django.request", "tater.faults", "tater.test", "tater.access"} <= loggers, loggers
    assert any("Traceback" in line.get("exc_info", "") for line in lines)
    leaked = sorted(s for s in found if s and s in text)
    assert not leaked, f"secrets in the logs: {leaked}"
    for code in codes:
        assert not re.search(rf"(?<![0-9a-f]){code}(?![0-9a-f])", text), f"OTP code {code} in the logs"
    assert "/ops-test/boom/<str:token>/" in text and "/ops-test/careless/<str:token>/" in text

    # One access line per request, with the route and never the path.
    access = [line for line in lines if line["logger"] == "tater.access"]
    assert [line["request_id"] for line in access] == request_ids
    assert all(line["route"].startswith(("/", "<")) for line in access)
    assert "/ops-test/outage/<str:token>/" in {line["route"] for line in access}
    # Lines written while serving a request carry its id.
    assert all(
        line.get("request_id") in request_ids for line in lines if line["logger"] in ("tater.api", "django.request")
    )
