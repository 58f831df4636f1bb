"""Attacks on the account layer, each written as the request sequence that reproduced it.

- The tenant "require 2FA" policy is enforced on every session request whatever other
  headers it carries (SPEC §8); a request genuinely authenticated by an API key is not a
  session request.
- Emails are compared after NFKC normalisation and case folding, and failed sign-ins are
  counted against the account whatever spelling reached it (SPEC §8, §6).
- TOTP seeds are secrets: not viewable or editable in the admin.
- A global provider's sign-in URL without a configured app is a 404 page, not a 500.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from orgs.models import Tenant
from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory, mail_sent, make_tenant

pytestmark = pytest.mark.django_db

OWNER = "owner@demo.tater.test"
# Spellings that NFKC + case folding turn into OWNER; PostgreSQL's UPPER() (iexact) also
# folds U+017F LATIN SMALL LETTER LONG S into "S".
SPELLINGS = [
    "owner@demo.tater.te\u017ft",
    "OWNER@DEMO.TATER.TEST",
    "\uff4fwner@demo.tater.test",  # fullwidth o
    "owner@demo.tater.te\u017ft ",
    "Owner@Demo.Tater.Te\u017fT",
]


# --- 2FA policy bypass by header ---------------------------------------------------------------------


@pytest.fixture
def unenrolled_member(world: dict[str, Any]) -> tuple[Client, Any]:
    """A member of a "require 2FA" tenant who has no second factor, signed in."""
    Tenant.objects.filter(pk=world["tenant"].pk).update(require_2fa=True)
    client = Client()
    response = client.post("/accounts/login/", {"login": world["member"].email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/keys/")["Location"] == "/accounts/2fa/"  # the policy holds without extra headers
    return client, world["member"]


BYPASS_HEADERS = [
    {"HTTP_X_API_KEY": "anything"},
    {"HTTP_X_AGENT_API_KEY": "anything"},
    {"HTTP_AUTHORIZATION": "Bearer anything"},
    {"HTTP_AUTHORIZATION": "Basic Zm9vOmJhcg=="},
    {"HTTP_X_API_KEY": ""},
]


@pytest.mark.parametrize("headers", BYPASS_HEADERS, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
@pytest.mark.parametrize(
    "path", ["/", "/keys/", "/members/", "/activity/", "/settings/tenant/", "/accounts/sso/", "/docs/api/"]
)
def test_attack_key_header_does_not_lift_the_2fa_policy_on_ui_pages(
    unenrolled_member: tuple[Client, Any], headers: dict[str, str], path: str
) -> None:
    client, _ = unenrolled_member
    response = client.get(path, **headers)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/", (path, response.status_code)


def test_attack_key_header_does_not_let_an_unenrolled_member_write_through_the_ui(
    unenrolled_member: tuple[Client, Any], world: dict[str, Any]
) -> None:
    client, member = unenrolled_member
    before = ApiKey.objects.count()
    response = client.post(
        "/keys/new/", {"name": "sneaky", "key_type": "standard", "preset": "full"}, HTTP_X_API_KEY=world["member_raw"]
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("headers", BYPASS_HEADERS, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_bad_key_next_to_a_session_on_the_api_is_refused_not_served_by_the_session(
    unenrolled_member: tuple[Client, Any], headers: dict[str, str]
) -> None:
    client, _ = unenrolled_member
    response = client.get("/api/v1/keys/", **headers)
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "UNAUTHORIZED"


def test_session_alone_on_the_api_gets_mfa_required(unenrolled_member: tuple[Client, Any]) -> None:
    client, _ = unenrolled_member
    response = client.get("/api/v1/keys/")
    assert (response.status_code, response.json()["error"]) == (403, "MFA_REQUIRED")


def test_a_genuine_api_key_request_keeps_working_even_beside_a_session(
    unenrolled_member: tuple[Client, Any], world: dict[str, Any]
) -> None:
    """The key authenticates (as its owner), the session is not used, so the session
    user's policy does not apply to it."""
    client, member = unenrolled_member
    me = client.get("/api/v1/me", HTTP_X_API_KEY=world["owner_raw"])
    assert me.status_code == 200
    assert me.json()["authentication"] == "api_key" and me.json()["user"]["id"] == world["owner"].public_id
    keys = client.get("/api/v1/keys/", HTTP_X_API_KEY=world["owner_raw"])
    assert keys.status_code == 200
    # Without any session, of course.
    assert APIClient().get("/api/v1/keys/", HTTP_X_API_KEY=world["member_raw"]).status_code == 200


def test_enrolled_member_is_not_blocked(world: dict[str, Any], clock: Any) -> None:
    Tenant.objects.filter(pk=world["tenant"].pk).update(require_2fa=True)
    _, codes = enrol(world["member"], clock.now)
    client = Client()
    client.post("/accounts/login/", {"login": world["member"].email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    assert client.get("/keys/", HTTP_X_API_KEY="anything").status_code == 200


# --- Lockout bypass by spelling ---------------------------------------------------------------------------


@pytest.fixture
def owner(settings: Any) -> Any:
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 1000
    _, user, _ = make_tenant(owner=UserFactory(email=OWNER))
    return user


def json_login(email: str, password: str, ip: str = "192.0.2.10") -> Any:
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def lock_out(email: str = OWNER) -> None:
    codes = [json_login(email, "wrong", ip=f"192.0.2.{i}").json()["error"] for i in range(1, 4)]
    assert codes[-1] == "LOCKED_OUT", codes


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_attack_other_spelling_of_a_locked_account_is_locked_too_json_login(owner: Any, spelling: str) -> None:
    lock_out()
    response = json_login(spelling, PASSWORD, ip="198.51.100.7")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")
    assert "sessionid" not in response.cookies


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_attack_other_spelling_of_a_locked_account_is_locked_too_token_exchange(owner: Any, spelling: str) -> None:
    lock_out()
    response = APIClient().post(
        "/api/v1/auth/token", {"email": spelling, "password": PASSWORD}, format="json", REMOTE_ADDR="198.51.100.7"
    )
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")
    assert not ApiKey.objects.filter(owner=owner).exists()


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_attack_other_spelling_of_a_locked_account_is_locked_too_ui_form(owner: Any, spelling: str) -> None:
    lock_out()
    client = Client(REMOTE_ADDR="198.51.100.7")
    response = client.post("/accounts/login/", {"login": spelling, "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("spelling", SPELLINGS[:3])
def test_failures_under_any_spelling_count_against_the_account(owner: Any, spelling: str) -> None:
    errors = [json_login(spelling if i % 2 else OWNER, "wrong", ip=f"192.0.2.{i}").json()["error"] for i in range(1, 4)]
    assert errors[-1] == "LOCKED_OUT", errors
    response = json_login(OWNER, PASSWORD, ip="198.51.100.7")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")
    # The UI form counts into the same account too.
    ui = Client(REMOTE_ADDR="198.51.100.8")
    assert ui.post("/accounts/login/", {"login": OWNER, "password": PASSWORD}).status_code == 429


def test_ui_form_failures_under_another_spelling_lock_the_json_login(owner: Any) -> None:
    for i in range(3):
        Client(REMOTE_ADDR=f"192.0.2.{50 + i}").post("/accounts/login/", {"login": SPELLINGS[0], "password": "wrong"})
    response = json_login(OWNER, PASSWORD, ip="198.51.100.9")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")


def test_failures_through_an_additional_address_count_against_the_account(owner: Any) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=owner, email="o.wner@other.test", verified=True, primary=False)
    for i, login in enumerate(["o.wner@other.test", OWNER, "O.WNER@other.te\u017ft"]):
        Client(REMOTE_ADDR=f"192.0.2.{60 + i}").post("/accounts/login/", {"login": login, "password": "wrong"})
    assert (
        Client(REMOTE_ADDR="198.51.100.10").post("/accounts/login/", {"login": OWNER, "password": PASSWORD}).status_code
        == 429
    )
    response = json_login(OWNER, PASSWORD, ip="198.51.100.11")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")


@pytest.mark.realservices
def test_attack_long_s_spelling_on_postgresql(owner: Any) -> None:
    """The reported attack, on the database where it worked: PostgreSQL's iexact folds the
    long s, so the other spelling reached the locked account and had its password checked."""
    assert connection.vendor == "postgresql"
    lock_out()
    response = json_login("owner@demo.tater.te\u017ft", PASSWORD, ip="198.51.100.7")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")


def test_every_spelling_reaches_the_one_account_when_not_locked(owner: Any) -> None:
    for spelling in SPELLINGS:
        response = json_login(spelling, PASSWORD)
        assert response.status_code == 200, (spelling, response.content)
        assert response.json()["user"]["user"]["id"] == owner.public_id


@pytest.mark.parametrize("spelling", SPELLINGS[:3])
def test_attack_sign_up_with_another_spelling_of_an_existing_email(owner: Any, spelling: str) -> None:
    response = Client().post(
        "/accounts/signup/",
        {"email": spelling.strip(), "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert response.status_code == 200  # the form again, with an error; never a 500
    assert get_user_model().objects.count() == 1


def test_attack_password_reset_with_another_spelling_mails_the_account_address_only(owner: Any) -> None:
    with mail_sent():
        response = Client().post("/accounts/password/reset/", {"email": "owner@demo.tater.te\u017ft"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [OWNER]  # never the typed spelling


def test_audit_records_failures_under_the_account(owner: Any) -> None:
    from audit.models import AuditEvent

    json_login(SPELLINGS[0], "wrong")
    failed = AuditEvent.objects.get(action="user.login_failed")
    assert failed.target_id == owner.public_id
    assert failed.changes["email"] == OWNER


# --- TOTP seeds in the admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(clock: Any) -> Client:
    staff = UserFactory(is_staff=True, is_superuser=True)
    _, codes = enrol(staff, clock.now)
    client = Client()
    client.post("/accounts/login/", {"login": staff.email, "password": PASSWORD})
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    return client


def test_attack_admin_shows_no_totp_seed(admin_client: Client, clock: Any) -> None:
    victim = UserFactory()
    device, codes = enrol(victim, clock.now)
    secrets = [device.key, base64.b32encode(device.bin_key).decode().rstrip("=")]
    pages = [
        admin_client.get("/admin/otp_totp/totpdevice/"),
        admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/"),
        # django-otp's own admin served the seed here (otpauth:// URL, QR code image).
        admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/", follow=True),
        admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/", follow=True),
        admin_client.get("/admin/otp_totp/totpdevice/add/"),
        admin_client.get(f"/admin/accounts/user/{victim.pk}/change/"),
    ]
    assert pages[0].status_code == 200 and victim.email in pages[0].content.decode()
    for page in pages:
        body = page.content.decode(errors="replace")
        for secret in secrets:
            assert secret not in body and secret.lower() not in body.lower()
        assert 'name="key"' not in body and "otpauth://" not in body
    for page in pages[2:4]:
        assert page["Content-Type"].startswith("text/html")  # no QR code image
        assert "doesn’t exist" in page.content.decode()  # the admin's "no such object" page
    assert pages[4].status_code == 403  # a device with a seed nobody saw is useless; enrolment is the way
    # Nor can a seed be planted through the change form.
    admin_client.post(
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        {
            "user": victim.pk,
            "name": "x",
            "confirmed": "on",
            "key": "00" * 20,
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
            "throttling_failure_count": 0,
        },
    )
    device.refresh_from_db()
    assert device.key == secrets[0]


def test_admin_cannot_give_a_user_a_look_alike_of_another_account_email(admin_client: Client) -> None:
    owner = UserFactory(email=OWNER)
    other = UserFactory()
    response = admin_client.post(
        f"/admin/accounts/user/{other.pk}/change/",
        {
            "email": "owner@demo.tater.te\u017ft",
            "first_name": "",
            "last_name": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "last_login_0": "",
            "last_login_1": "",
        },
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    other.refresh_from_db()
    assert other.email != owner.email and get_user_model().objects.filter(email_canonical=OWNER).count() == 1


# --- Provider login URLs without an app ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/google/login/",
        "/accounts/microsoft/login/",
        "/accounts/google/login/callback/?code=x&state=y",
        "/accounts/microsoft/login/callback/?code=x&state=y",
        "/accounts/google/login/token/",
        "/accounts/oidc/tenant-0000/login/",
        "/accounts/saml/tenant-0000/login/",
    ],
)
def test_provider_login_without_an_app_is_a_clean_404(method: str, path: str) -> None:
    client = Client(raise_request_exception=False)
    response = getattr(client, method)(path)
    assert response.status_code == 404, (path, response.status_code)
    body = response.content.decode()
    assert "We couldn’t find that page" in body
    assert "Traceback" not in body and "DoesNotExist" not in body


def test_provider_login_with_an_app_still_redirects() -> None:
    from allauth.socialaccount.models import SocialApp

    SocialApp.objects.create(provider="google", name="Google", client_id="g-client", secret="g-secret")
    client = Client()
    client.get("/accounts/login/")
    started = client.post("/accounts/google/login/?process=login")
    assert started.status_code == 302 and started["Location"].startswith("https://accounts.google.com/")
