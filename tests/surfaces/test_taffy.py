"""Taffy's credential exchange as its integrators know it (seed 003, SPEC §5a):
``POST /auth/token`` with ``username`` + ``password`` (+ ``code``) → the new key and the
header names to send it in, in ``{"errors": [...], "data": ...}``. The policy (owners only
by default), 2FA and the lockout are the core's (``POST /api/v1/auth/token``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import Tenant
from tests.accounts.conftest import enrol, totp_code
from tests.factories import PASSWORD, make_tenant
from tests.surfaces.conftest import json_of

pytestmark = pytest.mark.django_db
URL = "/auth/token"


def exchange(api: APIClient, **body: Any) -> Any:
    return api.post(URL, body, format="json")


def taffy_error(response: Any, status: int) -> list[str]:
    body = json_of(response, status)
    assert set(body) == {"errors", "data"} and body["data"] is None, body
    assert body["errors"] and all(isinstance(e, str) for e in body["errors"])
    return body["errors"]


def test_owner_gets_a_key_and_the_headers_to_send_it_in(api, world):
    owner = world["owner"]
    body = json_of(exchange(api, username=owner.email, password=PASSWORD, organizationId=world["org1"].public_id), 200)
    assert body["errors"] == []
    data = body["data"]
    assert data["key"].startswith("tater_") and data["headers"] == {"X-API-Key": data["key"]}
    assert data["organization_id"] == world["org1"].public_id and "only time" in data["notice"]
    # "Use the names provided in the response": they authenticate.
    assert (
        json_of(
            APIClient().get(
                "/api/v1/auth/validate",
                **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in data["headers"].items()},
            ),
            200,
        )["id"]
        == data["id"]
    )
    assert AuditEvent.objects.filter(
        action="api_key.created", target_id=data["id"], channel="api", actor_user_id=owner.pk
    ).exists()


def test_form_post_works_too(api):
    _, owner, _ = make_tenant()
    r = api.post(URL, f"username={owner.email}&password={PASSWORD}", content_type="application/x-www-form-urlencoded")
    assert json_of(r, 200)["data"]["key"].startswith("tater_")


def test_multipart_form_post_works_too_and_files_are_refused(api):
    """``curl -F username=… -F password=…`` and Postman's default "form-data" send multipart."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    _, owner, _ = make_tenant()
    r = api.post(URL, {"username": owner.email, "password": PASSWORD}, format="multipart")
    assert json_of(r, 200)["data"]["key"].startswith("tater_")
    upload = SimpleUploadedFile("creds.txt", b"x")
    r = api.post(URL, {"username": owner.email, "password": PASSWORD, "file": upload}, format="multipart")
    assert "no files" in taffy_error(r, 400)[0]


def test_non_owner_is_refused_by_the_default_policy(api, world):
    errors = taffy_error(exchange(api, username=world["admin"].email, password=PASSWORD), 403)
    assert "does not allow your role" in errors[0]
    assert not ApiKey.objects.filter(owner=world["admin"]).exists()


def test_tenant_policy_decides(api, world):
    Tenant.objects.filter(pk=world["tenant"].pk).update(token_exchange_policy="admins")
    assert json_of(exchange(api, username=world["admin"].email, password=PASSWORD), 200)["errors"] == []


def test_wrong_password_and_unknown_account_answer_alike(api, world):
    wrong = taffy_error(exchange(api, username=world["owner"].email, password="nope"), 401)
    unknown = taffy_error(exchange(api, username="nobody@example.com", password="nope"), 401)
    assert wrong == unknown == ["Invalid email or password"]


def test_missing_fields_are_named_as_taffy_names_them(api):
    errors = taffy_error(exchange(api, password="x"), 400)
    assert errors == ["username: This field is required."]


def test_username_and_email_together_are_refused(api, world):
    errors = taffy_error(
        exchange(api, username=world["owner"].email, email=world["owner"].email, password=PASSWORD), 400
    )
    assert "username" in errors[0]


def test_second_factor(api, clock):
    _, owner, _ = make_tenant()
    device, _ = enrol(owner, clock.now)
    clock.advance(30)
    errors = taffy_error(exchange(api, username=owner.email, password=PASSWORD), 401)
    assert "two-factor" in errors[0]
    body = json_of(exchange(api, username=owner.email, password=PASSWORD, code=totp_code(device, clock.now)), 200)
    assert body["data"]["key"]


def test_lockout_after_repeated_failures(api, world):
    with override_settings(TATER_LOCKOUT_ACCOUNT_FAILURES=3):
        for _ in range(2):
            taffy_error(exchange(api, username=world["owner"].email, password="wrong"), 401)
        r = exchange(api, username=world["owner"].email, password="wrong")
        assert "retry" in taffy_error(r, 429)[0].lower() and int(r["Retry-After"]) > 0
        # Locked: even the right password is refused until the lockout ends.
        taffy_error(exchange(api, username=world["owner"].email, password=PASSWORD), 429)


def test_answers_are_not_cached(api, world):
    r = exchange(api, username=world["owner"].email, password=PASSWORD, organizationId=world["org1"].public_id)
    assert r["Cache-Control"] == "no-store"
