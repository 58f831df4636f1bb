"""Users are named by opaque ids (``usr-<uuid>``, SPEC §1), never by their sequential
database id: in member lists and URLs, ``/api/v1/me``, the audit log's actor filter and
its entries. A numeric id is a 404 in a path and a 400 in a filter."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model

from audit import registry as A
from audit.models import AuditEvent
from audit.services import audit_record
from tests.factories import UserFactory

USER_ID = re.compile(r"^usr-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UNKNOWN = "usr-00000000-0000-4000-8000-000000000000"
AUDIT = "/api/v1/audit-log/"

pytestmark = pytest.mark.django_db


def members_url(org) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def assert_not_found(response) -> None:
    assert response.status_code == 404, response.content
    body = response.json()
    assert body["error"] == "NOT_FOUND" and "request_id" in body


def test_every_user_gets_a_distinct_opaque_id():
    users = [UserFactory() for _ in range(3)]
    ids = [u.public_id for u in users]
    assert all(USER_ID.match(i) for i in ids), ids
    assert len(set(ids)) == 3
    assert not get_user_model()._meta.get_field("public_id").editable


def test_member_list_ids_are_public_ids(api, world):
    r = api.get(members_url(world["org1"]), HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200
    members = r.json()["members"]
    assert members and all(USER_ID.match(m["user_id"]) for m in members), members
    by_email = {m["email"]: m["user_id"] for m in members}
    for name in ("owner", "admin", "member", "viewer"):
        assert by_email[world[name].email] == world[name].public_id
    assert not any(m["user_id"] == str(world[name].pk) for m in members for name in ("owner", "member"))


def test_member_detail_by_public_id(api, world):
    viewer = world["viewer"]
    url = f"{members_url(world['org1'])}{viewer.public_id}/"
    r = api.get(url, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200
    assert (r.json()["user_id"], r.json()["email"], r.json()["role"]) == (viewer.public_id, viewer.email, "viewer")
    r = api.patch(url, {"role": "member"}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert (r.status_code, r.json()["user_id"], r.json()["role"]) == (200, viewer.public_id, "member")
    # The audit entry names the member by the same id.
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.target_id == viewer.public_id


def test_member_detail_by_integer_pk_is_404(api, world):
    org, viewer = world["org1"], world["viewer"]
    url = f"{members_url(org)}{viewer.pk}/"
    assert_not_found(api.get(url, HTTP_X_API_KEY=world["owner_raw"]))
    assert_not_found(api.patch(url, {"role": "admin"}, format="json", HTTP_X_API_KEY=world["owner_raw"]))
    assert_not_found(api.delete(url, HTTP_X_API_KEY=world["owner_raw"]))
    assert_not_found(api.get(f"{members_url(org)}{UNKNOWN}/", HTTP_X_API_KEY=world["owner_raw"]))
    # Nothing changed under the numeric id.
    r = api.get(f"{members_url(org)}{viewer.public_id}/", HTTP_X_API_KEY=world["owner_raw"])
    assert r.json()["role"] == "viewer"


def test_member_added_by_email_is_answered_with_its_public_id(api, world):
    newcomer = UserFactory()
    r = api.post(
        members_url(world["org1"]),
        {"email": newcomer.email, "role": "viewer"},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 201, r.content
    assert r.json()["member"]["user_id"] == newcomer.public_id


def test_me_shows_the_public_id(api, world):
    owner = world["owner"]
    by_key = api.get("/api/v1/me", HTTP_X_API_KEY=world["owner_raw"])
    assert by_key.status_code == 200 and by_key.json()["user"]["id"] == owner.public_id
    api.force_login(owner)
    by_session = api.get("/api/v1/me")
    assert by_session.status_code == 200 and by_session.json()["user"]["id"] == owner.public_id


def test_audit_actor_filter_takes_the_public_id(api, world):
    owner, viewer = world["owner"], world["viewer"]
    org = world["org1"]
    r = api.patch(f"/api/v1/organizations/{org.public_id}/", {"name": "Renamed"}, format="json", **key(world))
    assert r.status_code == 200, r.content

    r = api.get(AUDIT, {"actor": owner.public_id}, **key(world))
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert "organization.updated" in [e["action"] for e in entries]
    assert {e["actor"]["user_id"] for e in entries} == {owner.public_id}
    assert {e["actor"]["email"] for e in entries} == {owner.email}
    assert api.get(AUDIT, {"actor": owner.email}, **key(world)).json()["entries"] == entries

    # Someone who did nothing here: an empty page, not an error.
    assert api.get(AUDIT, {"actor": viewer.public_id}, **key(world)).json()["entries"] == []

    csv_body = b"".join(api.get(AUDIT, {"actor": owner.public_id, "format": "csv"}, **key(world)).streaming_content)
    rows = list(csv.DictReader(io.StringIO(csv_body.decode())))
    assert rows and {row["actor_user_id"] for row in rows} == {owner.public_id}


@pytest.mark.parametrize("actor", ["numeric", "usr-not-a-uuid"])
def test_audit_actor_filter_refuses_integer_and_malformed_ids(api, world, actor):
    value = str(world["owner"].pk) if actor == "numeric" else actor
    r = api.get(AUDIT, {"actor": value}, **key(world))
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert list(body["details"]["fields"]) == ["actor"]


def test_audit_entry_of_a_deleted_user_keeps_its_email_but_no_id(api, world):
    gone = UserFactory()
    audit_record(action=A.ORG_UPDATED, tenant=world["tenant"], organization=world["org1"], actor_user=gone)
    gone.delete()
    entries = api.get(AUDIT, {"actor": gone.email}, **key(world)).json()["entries"]
    assert [e["actor"] for e in entries] == [{"user_id": None, "email": gone.email}]


def key(world) -> dict[str, str]:
    return {"HTTP_X_API_KEY": world["owner_raw"]}
