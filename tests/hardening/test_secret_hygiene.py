"""Secret hygiene (SPEC §2, OWASP ASVS V7/V8): after representative flows — keys created
and rotated through the API, the services and the command line, keys used (valid, dead,
unknown), password sign-ins (right and wrong) — no full API key and no plaintext password
appears in the captured logs, a full database dump, the admin pages or the audit log."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apikeys import services as key_services
from apikeys.models import ApiKey
from audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory, make_key, make_tenant

WRONG_PASSWORD = "Wr0ng-but-still-secret-Passw0rd"  # noqa: S105 - test value that must never be logged


def full_key_pattern() -> re.Pattern[str]:
    prefixes = "|".join(re.escape(p) for p in settings.TATER_KEY_PREFIXES.values())
    return re.compile(rf"(?:{prefixes})[0-9a-f]{{32}}")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("factory"):
            return  # factory_boy's own DEBUG trace of test fixtures (set_password args), not the app
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text} {record.__dict__.get('request', '')!s}")


@pytest.fixture
def captured_logs() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # django.db.backends at DEBUG logs every SQL statement with its parameters: exactly
    # where a digest-vs-key mix-up would show.
    from django.db import connection

    connection.force_debug_cursor = True
    loggers = [
        logging.getLogger(name) for name in ("django", "django.db.backends", "tater", "apikeys", "accounts", "audit")
    ]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        connection.force_debug_cursor = False
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        root.removeHandler(handler)
        root.setLevel(old_level)


def _admin_client(owner: Any) -> Client:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    owner.is_staff = owner.is_superuser = True
    owner.save()
    device = TOTPDevice.objects.create(user=owner, name="hygiene", confirmed=True)
    client = Client()
    client.force_login(owner)
    session = client.session
    session["otp_device_id"] = device.persistent_id  # what django_otp.login stores
    session.save()
    return client


@pytest.mark.django_db(transaction=False)
def test_no_secret_in_logs_dump_admin_or_audit(captured_logs: Capture, settings: Any) -> None:
    settings.DEBUG = False
    tenant, owner, (org,) = make_tenant(name="Hygiene", orgs=1, plan="enterprise")
    secrets: set[str] = set()
    api = APIClient()

    # Keys through the service, the API (create, rotate) and the command line.
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="service key")
    secrets.add(raw)
    created = api.post(
        "/api/v1/keys/", {"name": "api key", "scopes": ["scans:read"]}, format="json", HTTP_X_API_KEY=raw
    )
    assert created.status_code == 201, created.content
    secrets.add(created.json()["key"])
    rotated = api.post(
        f"/api/v1/keys/{created.json()['id']}/rotate/", {"grace_period_seconds": 60}, format="json", HTTP_X_API_KEY=raw
    )
    assert rotated.status_code == 200, rotated.content
    secrets.add(rotated.json()["key"])
    issued = key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=0)
    secrets.add(issued.key)
    out = io.StringIO()
    call_command(
        "create_api_key",
        "--user",
        owner.email,
        "--tenant",
        tenant.public_id,
        "--org",
        org.public_id,
        "--name",
        "cli key",
        "--json",
        stdout=out,
    )
    cli = json.loads(out.getvalue())
    cli_key = next(v for v in _walk(cli) if isinstance(v, str) and full_key_pattern().fullmatch(v))
    secrets.add(cli_key)

    # Keys in use: valid, the rotated-out one (dead), an unknown well-formed one, a revoked one.
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=issued.key).status_code == 200
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code == 401
    unknown = "tater_" + "5" * 32
    secrets.add(unknown)
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=unknown).status_code == 401
    revoked = ApiKey.objects.get(public_id=created.json()["id"])
    key_services.apikey_revoke(api_key=revoked, actor=owner)
    assert api.get("/api/v1/keys/", HTTP_X_API_KEY=rotated.json()["key"]).status_code == 401
    assert api.get("/api/v1/keys/", HTTP_AUTHORIZATION=f"Bearer {issued.key}").status_code == 401

    # Password sign-ins: JSON login right and wrong, the UI form wrong.
    member = UserFactory(email="hygiene-member@example.com")
    assert (
        api.post("/api/v1/auth/login", {"email": member.email, "password": WRONG_PASSWORD}, format="json").status_code
        == 401
    )
    assert (
        api.post("/api/v1/auth/login", {"email": member.email, "password": PASSWORD}, format="json").status_code == 200
    )
    Client().post("/accounts/login/", {"login": member.email, "password": WRONG_PASSWORD})
    Client().post(
        "/api/v1/auth/token", json.dumps({"email": owner.email, "password": PASSWORD}), content_type="application/json"
    )

    # The admin pages an operator sees.
    admin = _admin_client(owner)
    pages = []
    for model, pk in (
        (ApiKey, key.pk),
        (AuditEvent, AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()),
        (type(owner), owner.pk),
    ):
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for url in (base, f"{base}{pk}/change/"):
            response = admin.get(url)
            assert response.status_code == 200, (url, response.status_code)
            pages.append((url, response.content.decode(errors="replace")))

    dump = io.StringIO()
    call_command("dumpdata", "--natural-foreign", stdout=dump)
    audit_text = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert AuditEvent.objects.filter(action__startswith="api_key.").count() >= 4

    places = {"logs": "\n".join(captured_logs.lines), "database dump": dump.getvalue(), "audit log": audit_text}
    places.update({f"admin page {url}": html for url, html in pages})
    pattern = full_key_pattern()
    leaks = []
    for where, text in places.items():
        for match in pattern.findall(text):
            leaks.append(f"{where}: full API key {match[:10]}…")
        for secret in (PASSWORD, WRONG_PASSWORD):
            if secret in text:
                at = text.index(secret)
                context = text[max(0, at - 160) : at].rsplit("\n", 1)[-1][-160:].replace(secret, "<password>")
                leaks.append(f"{where}: plaintext password, after: {context!r}")
    assert len(secrets) >= 6
    assert captured_logs.lines, "nothing was logged: the capture is broken"
    assert not leaks, "\n".join(sorted(set(leaks)))


def _walk(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value
