"""SPEC §2 "A key never appears in logs, admin, audit entries or error bodies" (§13 SCIM,
audited with channel ``scim``; README: a SCIM token is treated as a key). Review s48 made every
name people give things refuse a live secret (tater.names), but a SCIM Group's displayName and
externalId and a User's name, displayName and emails went into the ``scim_group.*`` and
``scim_user.*`` entries the tenant's owners read unchecked: an identity-provider admin naming a
group after a live API key (or the tenant's SCIM token) put it in the Activity Log. Such a value
is now a SCIM 400 ``invalidValue`` that never echoes it, nothing stored; a directory object
stored before keeps working when a change leaves that value as it is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit.models import AuditEvent
from scim.models import ScimGroup, ScimUser
from tests.factories import make_key
from tests.scim.conftest import new_user, patch_op, provision

pytestmark = pytest.mark.django_db

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


def api_key(d: Any) -> str:
    return make_key(user=d.owner, tenant=d.tenant, org=d.orgs[0])[1]


def in_the_log(secret: str) -> bool:
    return secret in json.dumps(list(AuditEvent.objects.values("changes", "target_repr")), default=str)


def assert_refused(r: Any, secret: str) -> None:
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["schemas"] == [ERROR_URN] and body["scimType"] == "invalidValue", body
    assert secret not in r.content.decode()
    assert not in_the_log(secret)


@pytest.mark.parametrize("kind", ["api key", "scim token"])
def test_a_group_named_after_a_secret_is_refused(acme, kind):
    secret = api_key(acme) if kind == "api key" else acme.secret
    r = acme.scim.post("/Groups", {"displayName": f"Ops {secret}"})
    assert_refused(r, secret)
    assert not ScimGroup.objects.filter(tenant=acme.tenant).exists()


def test_a_groups_external_id_holding_a_secret_is_refused(acme):
    secret = api_key(acme)
    assert_refused(acme.scim.post("/Groups", {"displayName": "Ops", "externalId": secret}), secret)


def test_a_group_renamed_to_a_secret_by_put_or_patch_is_refused(acme):
    secret = api_key(acme)
    group = acme.scim.post("/Groups", {"displayName": "Ops"}).json()
    assert_refused(acme.scim.put(f"/Groups/{group['id']}", {"displayName": secret}), secret)
    rename = patch_op({"op": "replace", "path": "displayName", "value": f"ops {secret}"})
    assert_refused(acme.scim.patch(f"/Groups/{group['id']}", rename), secret)
    assert ScimGroup.objects.get(public_id=group["id"]).display_name == "Ops"


def test_a_user_whose_name_holds_a_secret_is_refused(acme):
    secret = api_key(acme)
    r = acme.scim.post("/Users", new_user("ada@acme.test", displayName=f"Ada {secret}"))
    assert_refused(r, secret)
    assert not ScimUser.objects.filter(tenant=acme.tenant, user_name="ada@acme.test").exists()
    user = provision(acme, "bob@acme.test")
    rename = patch_op({"op": "replace", "path": "name.givenName", "value": secret})
    assert_refused(acme.scim.patch(f"/Users/{user['id']}", rename), secret)


def test_a_group_stored_with_a_secret_still_takes_members(acme):
    """A group stored before the check keeps working: adding a member leaves its name as it is."""
    secret = api_key(acme)
    group = acme.scim.post("/Groups", {"displayName": "Ops"}).json()
    ScimGroup.objects.filter(public_id=group["id"]).update(display_name=f"Ops {secret}")
    member = provision(acme, "carol@acme.test")["id"]
    add = patch_op({"op": "add", "path": "members", "value": [{"value": member}]})
    r = acme.scim.patch(f"/Groups/{group['id']}", add)
    assert r.status_code == 200, r.content


def test_names_without_a_live_secret_are_kept(acme):
    made_up = "tater_" + "0123456789abcdef" * 2
    r = acme.scim.post("/Groups", {"displayName": f"Ops {made_up}"})
    assert r.status_code == 201, r.content
