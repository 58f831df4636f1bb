"""SPEC §2 "A key never appears in logs, admin, audit entries or error bodies" (§13 SCIM tokens;
README: a SCIM token is treated as a key). A scan upload's scanner, target and metadata go into
its ``scan.uploaded`` entry, and a key's name and metadata into its ``api_key.*`` entries, which
the org's admins read: each refused a secret of this deployment's API keys, but not a SCIM token,
so a collector whose config carried the tenant's ``scim_…`` token (or a member mapping keys by
it) put a live token, which reaches every account of the tenant, in the Activity Log. A SCIM
token of this deployment (revoked or not) there is now a 400 naming the field, never echoed and
nothing stored; ``scim_``-shaped text that is no token is kept, as key-shaped text is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apikeys.models import ApiKey
from audit.models import AuditEvent
from scans.models import Scan
from scim.services.tokens import scim_token_create, scim_token_revoke
from tests.orgs.api_world import SCAN_BODY

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/scans/upload"
KEYS = "/api/v1/keys/"
MADE_UP = "scim_" + "0123456789abcdef" * 2  # the shape, but never issued


def scim_secret(world: dict[str, Any], *, revoked: bool = False) -> str:
    issued = scim_token_create(tenant=world["tenant"], name="Okta", actor=world["owner"])
    if revoked:
        scim_token_revoke(token=issued.token, actor=world["owner"])
    return issued.secret


def assert_refused(r: Any, field: str, secret: str) -> None:
    assert (r.status_code, r.json()["error"]) == (400, "VALIDATION_ERROR"), r.content
    assert list(r.json()["details"]["fields"]) == [field]
    assert secret not in r.content.decode()


def assert_not_in_the_log(api: Any, world: dict[str, Any], secret: str) -> None:
    rows = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert secret not in rows
    api.force_login(world["admin"])
    log = api.get("/api/v1/audit-log/", {"organizationId": world["org1"].public_id}).content.decode()
    assert secret not in log


@pytest.mark.parametrize(
    ("field", "value", "revoked"),
    [
        ("metadata", lambda token: {"idp": {"scim_token": token}}, False),
        ("metadata", lambda token: {token: "okta"}, True),
        ("target", lambda token: f"https://tater.example/scim/v2/Users?token={token}", False),
        ("scanner", lambda token: f"collector {token}", False),
    ],
)
def test_a_scim_token_in_a_scan_upload_is_refused(api, world, field, value, revoked):
    secret = scim_secret(world, revoked=revoked)

    r = api.post(UPLOAD, {**SCAN_BODY, field: value(secret)}, format="json", HTTP_X_API_KEY=world["member_raw"])

    assert_refused(r, field, secret)
    assert not Scan.objects.exists()
    assert not AuditEvent.objects.filter(action="scan.uploaded").exists()
    assert_not_in_the_log(api, world, secret)


@pytest.mark.parametrize("field", ["metadata", "name"])
def test_a_scim_token_in_a_new_key_is_refused(api, world, field):
    secret = scim_secret(world)
    count = ApiKey.objects.count()
    body = {"name": "cfg", "metadata": {"backup": {"token": secret}}} if field == "metadata" else {"name": secret}

    r = api.post(KEYS, body, format="json", HTTP_X_API_KEY=world["member_raw"])

    assert_refused(r, field, secret)
    assert ApiKey.objects.count() == count
    assert_not_in_the_log(api, world, secret)


def test_a_scim_token_in_patched_key_metadata_is_refused(api, world):
    secret = scim_secret(world, revoked=True)
    key = world["member_key"]

    r = api.patch(
        f"{KEYS}{key.public_id}/", {"metadata": {secret: "prod"}}, format="json", HTTP_X_API_KEY=world["member_raw"]
    )

    assert_refused(r, "metadata", secret)
    key.refresh_from_db()
    assert key.metadata == {}
    assert_not_in_the_log(api, world, secret)


def test_scim_shaped_text_that_is_no_token_is_kept(api, world):
    scim_secret(world)  # the deployment has tokens: the made-up one is none of them
    r = api.post(UPLOAD, {**SCAN_BODY, "target": f"demo {MADE_UP}"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201, r.content
    assert AuditEvent.objects.get(action="scan.uploaded").changes["target"]["to"] == f"demo {MADE_UP}"

    r = api.post(
        KEYS, {"name": "cfg", "metadata": {"example": MADE_UP}}, format="json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 201, r.content
    assert r.json()["metadata"] == {"example": MADE_UP}
