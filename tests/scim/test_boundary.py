"""Attacker stories at the tenant boundary: a tenant's SCIM token sees and changes only
its own directory, never another tenant's people, and never an account in a way that
reaches another tenant. Credentials stay in their lane: SCIM tokens only on /scim/v2/,
API keys never there."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import UserSession
from orgs import services as org_services
from orgs.models import OrgMembership
from scim.models import ScimGroup, ScimUser
from scim.services import tokens as token_services
from tests.factories import UserFactory, make_key
from tests.scim.conftest import SCIM_JSON, ScimClient, new_user, patch_op
from tests.scim.test_lifecycle import group_with, key_status, provision, signed_in

pytestmark = pytest.mark.django_db

User = get_user_model()
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_401(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith(SCIM_JSON)
    assert response.json()["schemas"] == [ERROR] and response.json()["status"] == "401"
    assert response["WWW-Authenticate"].startswith("Bearer")


def globex_user_id(globex: Any) -> str:
    return provision(globex, "gina@globex.test")["id"]


# --- Another tenant's people ----------------------------------------------------------------


def test_a_token_never_reaches_another_tenants_user(acme, globex):
    gina = globex_user_id(globex)
    before = ScimUser.objects.get(public_id=gina)
    assert acme.scim.get(f"/Users/{gina}").status_code == 404
    assert (
        acme.scim.patch(f"/Users/{gina}", patch_op({"op": "replace", "path": "active", "value": False})).status_code
        == 404
    )
    assert acme.scim.put(f"/Users/{gina}", new_user("gina@globex.test", active=False)).status_code == 404
    assert acme.scim.delete(f"/Users/{gina}").status_code == 404
    after = ScimUser.objects.get(public_id=gina)
    assert (after.active, after.version, after.deleted_at) == (before.active, before.version, None)
    assert User.objects.get(email="gina@globex.test").is_active


def test_another_tenants_people_are_not_listed_or_found(acme, globex):
    globex_user_id(globex)
    listed = acme.scim.get("/Users").json()
    assert all(not u["userName"].endswith("@globex.test") for u in listed["Resources"])
    for query in ('userName eq "gina@globex.test"', 'userName eq "owner@globex.test"'):
        from urllib.parse import quote

        assert acme.scim.get("/Users", QUERY_STRING=f"filter={quote(query)}").json()["totalResults"] == 0
    assert acme.scim.post("/.search", {"filter": 'userName eq "gina@globex.test"'}).json()["totalResults"] == 0


def test_another_tenants_user_cannot_join_a_group(acme, globex):
    gina = globex_user_id(globex)
    assert acme.scim.post("/Groups", {"displayName": "Steal", "members": [{"value": gina}]}).status_code == 400
    group = acme.scim.post("/Groups", {"displayName": "Mine"}).json()
    r = acme.scim.patch(
        f"/Groups/{group['id']}", patch_op({"op": "add", "path": "members", "value": [{"value": gina}]})
    )
    assert r.status_code == 400
    assert not ScimGroup.objects.get(public_id=group["id"]).members.exists()


def test_another_tenants_group_is_a_404(acme, globex):
    theirs = globex.scim.post("/Groups", {"displayName": "Globex team"}).json()
    assert acme.scim.get(f"/Groups/{theirs['id']}").status_code == 404
    assert (
        acme.scim.patch(
            f"/Groups/{theirs['id']}", patch_op({"op": "replace", "path": "displayName", "value": "x"})
        ).status_code
        == 404
    )
    assert acme.scim.delete(f"/Groups/{theirs['id']}").status_code == 404
    assert ScimGroup.objects.filter(public_id=theirs["id"], display_name="Globex team").exists()


def test_provisioning_someone_elses_account_leaves_it_untouched(acme, globex):
    """Acme's IdP names an address whose account belongs to Globex only: the User is
    created (201, nothing tells Acme the account exists) but stays pending: no link, no
    role, no change to the account."""
    gina = UserFactory(email="gina@acme.test", first_name="Gina", last_name="Globex")  # in acme's verified domain
    org_services.org_member_set(organization=globex.orgs[0], user=gina, role="member")
    created = provision(acme, "gina@acme.test", name={"givenName": "Mallory", "familyName": "Mallory"})
    identity = ScimUser.objects.get(public_id=created["id"])
    assert identity.user is None
    group_with(acme, "Grab", created["id"], org=acme.orgs[0], role="admin")
    assert not OrgMembership.objects.filter(user=gina, organization__tenant=acme.tenant).exists()
    acme.scim.patch(f"/Users/{created['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    gina.refresh_from_db()
    assert (gina.first_name, gina.last_name, gina.is_active) == ("Gina", "Globex", True)


def test_no_account_is_created_outside_the_verified_domains(acme):
    created = provision(acme, "someone@gmail.test")
    assert ScimUser.objects.get(public_id=created["id"]).user is None
    assert not User.objects.filter(email="someone@gmail.test").exists()


def test_a_pending_user_is_linked_once_the_account_joins_the_tenant(acme, globex):
    gina = UserFactory(email="gina@acme.test")
    org_services.org_member_set(organization=globex.orgs[0], user=gina, role="member")
    created = provision(acme, "gina@acme.test")
    group_with(acme, "Eng", created["id"], org=acme.orgs[0], role="member")
    # Gina accepts an invitation to Acme (here: an admin adds her).
    org_services.org_member_set(organization=acme.orgs[1], user=gina, role="viewer")
    acme.scim.get("/Users")  # the identity provider's next sync
    assert ScimUser.objects.get(public_id=created["id"]).user == gina
    assert OrgMembership.objects.get(user=gina, organization=acme.orgs[0]).role == "member"


# --- A person in two tenants ----------------------------------------------------------------


@pytest.fixture
def shared(acme, globex) -> dict[str, Any]:
    """Sam belongs to Acme (provisioned, through a group) and to Globex (a member there)."""
    sam_id = provision(acme, "sam@acme.test")["id"]
    sam = User.objects.get(email="sam@acme.test")
    group_with(acme, "Eng", sam_id, org=acme.orgs[0], role="member")
    org_services.org_member_set(organization=globex.orgs[0], user=sam, role="member")
    _, acme_key = make_key(user=sam, tenant=acme.tenant, org=acme.orgs[0], name="acme")
    _, globex_key = make_key(user=sam, tenant=globex.tenant, org=globex.orgs[0], name="globex")
    return {"id": sam_id, "user": sam, "acme_key": acme_key, "globex_key": globex_key}


def test_deprovisioning_a_shared_person_ends_only_this_tenants_access(acme, globex, shared):
    sam = shared["user"]
    browser = signed_in(sam)
    assert key_status(shared["acme_key"])[0] == 200 and key_status(shared["globex_key"])[0] == 200
    acme.scim.patch(f"/Users/{shared['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    sam.refresh_from_db()
    assert sam.is_active  # Globex still holds the account
    assert key_status(shared["acme_key"])[0] == 401  # the very next request
    assert key_status(shared["globex_key"])[0] == 200
    assert not OrgMembership.objects.filter(user=sam, organization__tenant=acme.tenant).exists()
    assert OrgMembership.objects.filter(user=sam, organization__tenant=globex.tenant).exists()
    # Signed in, Sam keeps Globex; Acme's orgs are gone from reach.
    assert UserSession.objects.filter(user=sam).exists()
    me = browser.get("/api/v1/organizations/").json()
    assert {o["id"] for o in me["organizations"]} == {globex.orgs[0].public_id}


def test_delete_of_a_shared_person_keeps_the_account(acme, shared):
    assert acme.scim.delete(f"/Users/{shared['id']}").status_code == 204
    shared["user"].refresh_from_db()
    assert shared["user"].is_active
    assert key_status(shared["globex_key"])[0] == 200


def test_a_tenant_cannot_rename_a_shared_account(acme, shared):
    sam = shared["user"]
    r = acme.scim.patch(
        f"/Users/{shared['id']}", patch_op({"op": "replace", "path": "userName", "value": "evil@acme.test"})
    )
    assert r.status_code == 400 and r.json()["scimType"] == "mutability"
    r = acme.scim.patch(
        f"/Users/{shared['id']}", patch_op({"op": "replace", "path": "name.givenName", "value": "Mallory"})
    )
    assert r.status_code == 200 and r.json()["name"]["givenName"] == "Mallory"  # Acme's view
    sam.refresh_from_db()
    assert sam.email == "sam@acme.test" and sam.first_name != "Mallory"


def test_a_tenants_own_account_follows_its_directory(acme):
    ada = provision(acme, "ada@acme.test")
    r = acme.scim.patch(
        f"/Users/{ada['id']}",
        patch_op(
            {"op": "replace", "path": "userName", "value": "ada.lovelace@acme.test"},
            {"op": "replace", "path": "name.givenName", "value": "Augusta"},
        ),
    )
    assert r.status_code == 200, r.content
    account = ScimUser.objects.get(public_id=ada["id"]).user
    assert (account.email, account.first_name) == ("ada.lovelace@acme.test", "Augusta")
    # Not to an address outside its verified domains, nor onto someone else's address.
    r = acme.scim.patch(
        f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "userName", "value": "ada@gmail.test"})
    )
    assert r.status_code == 400
    UserFactory(email="taken@acme.test")
    r = acme.scim.patch(
        f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "userName", "value": "taken@acme.test"})
    )
    assert r.status_code == 409 and r.json()["scimType"] == "uniqueness"


# --- Credentials in their lane --------------------------------------------------------------


def test_no_token_and_bad_tokens_are_scim_401s(acme):
    scim_401(ScimClient("").get("/Users"))
    scim_401(ScimClient("scim_" + "0" * 32).get("/Users"))
    scim_401(ScimClient("not-a-token").get("/Users"))
    scim_401(acme.scim.client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Basic {acme.secret}"))


def test_a_revoked_token_is_refused_at_once(acme):
    assert acme.scim.get("/Users").status_code == 200
    token_services.scim_token_revoke(token=acme.token, actor=acme.owner)
    scim_401(acme.scim.get("/Users"))
    scim_401(acme.scim.post("/Users", new_user("late@acme.test")))
    assert not ScimUser.objects.filter(user_name="late@acme.test").exists()


def test_an_api_key_is_refused_on_scim(acme):
    _, raw = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="unbound owner key")
    scim_401(acme.scim.client.get("/scim/v2/Users", HTTP_X_API_KEY=raw))
    scim_401(acme.scim.client.get("/scim/v2/Users", HTTP_AUTHORIZATION=f"Bearer {raw}"))
    # Even next to a valid SCIM token: a key is never a SCIM credential.
    scim_401(acme.scim.get("/Users", HTTP_X_API_KEY=raw))


def test_a_scim_token_is_refused_on_the_api(acme):
    api = APIClient()
    for path in ("/api/v1/auth/validate", "/api/v1/keys/", "/api/v1/scim-tokens/"):
        r = api.get(path, HTTP_X_API_KEY=acme.secret)
        assert r.status_code == 401 and r.json()["message"] == "Invalid token", (path, r.content)
    # As a Bearer header: refused as the catalog says (no bearer keys by default) …
    r = api.get("/api/v1/keys/", HTTP_AUTHORIZATION=f"Bearer {acme.secret}")
    assert r.status_code == 401 and r.json()["error"] == "UNAUTHORIZED"
    # … and as an unknown key where bearer keys are admitted.
    with override_settings(TATER_ALLOW_BEARER_KEYS=True):
        r = api.get("/api/v1/keys/", HTTP_AUTHORIZATION=f"Bearer {acme.secret}")
        assert r.status_code == 401 and r.json()["message"] == "Invalid token"


def test_guessing_tokens_locks_the_client_out(acme, settings):
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 3
    guesser = ScimClient("scim_" + "1" * 32)
    for _ in range(2):
        scim_401(guesser.get("/Users"))
    r = guesser.get("/Users")
    assert r.status_code == 429 and r.json()["status"] == "429" and r["Retry-After"]


def test_deprovisioning_leaves_other_peoples_keys_alone(acme):
    """Keys of other people in the tenant keep working."""
    ada = provision(acme, "ada@acme.test")
    _, owner_raw = make_key(user=acme.owner, tenant=acme.tenant, org=acme.orgs[0], name="owner")
    acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert key_status(owner_raw)[0] == 200
