"""The audit log's cursor (SPEC §1, §3, §5).

Attack: the cursor was the signed *database id* of the last row, readable by anyone (base64 of
the number). Ids are shared by every tenant, so a tenant reading its own cursor now and then
learned how many entries the whole platform wrote meanwhile (another tenant's activity), and
SPEC §1 keeps API ids opaque, never sequential integers. A cursor is also a place in one
organization's log: another tenant's or another org's cursor is a 400 naming `cursor`, not a
page of this log positioned by a foreign row."""

from __future__ import annotations

import base64
import binascii
import re

import pytest

from audit.models import AuditEvent
from orgs import services as org_services

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def _cursor(api, raw=None, **params):
    headers = {"HTTP_X_API_KEY": raw} if raw else {}
    r = api.get(URL, {"limit": 1, **params}, **headers)
    assert r.status_code == 200, r.content
    cursor = r.json()["next_cursor"]
    assert cursor
    return cursor


def _readable_parts(cursor: str) -> str:
    """Whatever the cursor's base64 pieces decode to."""
    texts = []
    for piece in re.split(r"[:.]", cursor):
        for candidate in (piece, piece.rstrip("=")):
            try:
                texts.append(base64.urlsafe_b64decode(candidate + "=" * (-len(candidate) % 4)).decode("latin-1"))
            except (binascii.Error, ValueError):
                continue
    return "\n".join(texts)


def test_a_cursor_does_not_carry_the_rows_database_id(api, world):
    for _ in range(3):
        org_services.org_rename(organization=world["org1"], name="again", actor=world["owner"])
    revealing = []
    for _ in range(3):  # the same place thrice: random bytes may hold the digits once, not every time
        r = api.get(URL, {"limit": 1}, HTTP_X_API_KEY=world["owner_raw"])
        newest = AuditEvent.objects.get(public_id=r.json()["entries"][0]["id"])
        readable = _readable_parts(r.json()["next_cursor"])
        revealing.append(bool(re.search(rf"(?<!\d){newest.pk}(?!\d)", readable)))
    assert not all(revealing)


def test_another_tenants_cursor_is_refused(api, world):
    org_services.org_rename(organization=world["other_org"], name="globex again", actor=world["other_owner"])
    foreign = _cursor(api, world["other_raw"])
    r = api.get(URL, {"cursor": foreign}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert "cursor" in body["details"]["fields"]


def test_a_cursor_of_another_org_is_refused(api, world):
    org_services.org_rename(organization=world["org2"], name="org two again", actor=world["owner"])
    org_services.org_rename(organization=world["org2"], name="org two once more", actor=world["owner"])
    api.force_login(world["owner"])
    org2_cursor = _cursor(api, organizationId=world["org2"].public_id)
    r = api.get(URL, {"cursor": org2_cursor, "organizationId": world["org1"].public_id})
    assert r.status_code == 400
    assert r.json()["error"] == "VALIDATION_ERROR"
    # In its own org it still pages on.
    assert api.get(URL, {"cursor": org2_cursor, "organizationId": world["org2"].public_id}).status_code == 200


def test_the_activity_log_refuses_a_foreign_cursor_in_words(client, api, world):
    org_services.org_rename(organization=world["other_org"], name="globex again", actor=world["other_owner"])
    foreign = _cursor(api, world["other_raw"])
    client.force_login(world["admin"])
    r = client.get("/activity/", {"cursor": foreign})
    assert r.status_code == 200
    assert 'role="alert"' in r.content.decode()
    assert "Back to the newest entries" in r.content.decode()


def test_paging_still_walks_every_entry_once(api, world):
    for n in range(7):
        org_services.org_rename(organization=world["org1"], name=f"name {n}", actor=world["owner"])
    expected = list(
        AuditEvent.objects.filter(organization=world["org1"]).order_by("-id").values_list("public_id", flat=True)
    )
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = api.get(URL, params, HTTP_X_API_KEY=world["owner_raw"]).json()
        seen += [e["id"] for e in body["entries"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
