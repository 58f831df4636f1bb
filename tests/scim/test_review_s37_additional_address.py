"""Review s37: a member of the tenant whose account holds the directory's userName as a
verified ADDITIONAL address (not its sign-in address) was never linked: the IdP's User stayed
pending, so deprovisioning it (``active: false``, DELETE) never reached the person, whose
sessions and keys kept working after the IdP removed them (SPEC §13).

What an Okta or Entra ID admin expects: a member of this tenant who proved they hold the
address (verified, any spelling per SPEC §8) is that person, as for their sign-in address.
Still pending: an address held unverified (anyone may add any address to their account), or
held by an account that does not belong to the tenant (linking is its owner's decision)."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import UserSession
from audit.models import AuditEvent
from orgs.models import OrgMembership
from scim.models import ScimUser
from tests.factories import UserFactory, add_member, make_key
from tests.scim.conftest import Directory, new_user, patch_op, provision

pytestmark = pytest.mark.django_db

User = get_user_model()


def member_with(d: Directory, primary: str, extra: str, *, verified: bool = True, listed: bool = False) -> Any:
    """A member of the tenant signing in with ``primary`` and holding ``extra`` too. Unless
    ``listed``, the directory does not list them (a join in the instant of the first token)."""
    person = add_member(d.orgs[0], "member", UserFactory(email=primary))
    EmailAddress.objects.create(user=person, email=extra, verified=verified, primary=False)
    if not listed:
        ScimUser.objects.filter(tenant=d.tenant, user=person).delete()
    return person


def key_status(raw: str) -> int:
    return APIClient().get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get("/api/v1/me/").status_code == 200
    return client


def test_post_links_the_member_holding_the_username_as_a_verified_additional_address(acme):
    mia = member_with(acme, "mia@freemail.test", "mia@acme.test")

    created = provision(acme, "mia@acme.test")

    identity = ScimUser.objects.get(public_id=created["id"])
    assert identity.user == mia
    entry = AuditEvent.objects.filter(action="scim_user.created").latest("id")
    assert entry.changes["account"] == "linked"
    mia.refresh_from_db()
    assert mia.email == "mia@freemail.test"  # the account's own sign-in address is untouched
    assert User.objects.filter(email__iexact="mia@acme.test").count() == 0


@pytest.mark.parametrize("how", ["deactivate", "delete"])
def test_deprovisioning_the_linked_user_ends_their_sessions_and_keys(acme, how):
    mia = member_with(acme, "mia@freemail.test", "mia@acme.test")
    _, raw = make_key(user=mia, tenant=acme.tenant, org=acme.orgs[0], name="mia's key")
    browser = signed_in(mia)
    assert key_status(raw) == 200
    created = provision(acme, "mia@acme.test")

    if how == "deactivate":
        r = acme.scim.patch(f"/Users/{created['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
        assert r.status_code == 200, r.content
    else:
        assert acme.scim.delete(f"/Users/{created['id']}").status_code == 204

    assert key_status(raw) == 401
    assert browser.get("/api/v1/me/").status_code in (401, 403)
    assert not UserSession.objects.filter(user=mia).exists()
    assert not OrgMembership.objects.filter(user=mia).exists()


@pytest.mark.parametrize("sent", ["MIA@Acme.Test", "\uff4d\uff49\uff41@acme.test"])  # case; fullwidth (NFKC)
def test_any_spelling_of_the_verified_additional_address_links(acme, sent):
    mia = member_with(acme, "mia@freemail.test", "mia@acme.test")  # allauth stores it lower-cased
    created = provision(acme, sent)
    assert ScimUser.objects.get(public_id=created["id"]).user == mia


def test_an_unverified_additional_address_of_a_member_stays_pending(acme):
    mia = member_with(acme, "mia@freemail.test", "ceo@acme.test", verified=False)
    created = provision(acme, "ceo@acme.test")
    assert ScimUser.objects.get(public_id=created["id"]).user is None
    assert not User.objects.filter(email__iexact="ceo@acme.test").exists()
    assert OrgMembership.objects.filter(user=mia).exists()


def test_a_verified_additional_address_of_someone_outside_the_tenant_stays_pending(acme, globex):
    outsider = add_member(globex.orgs[0], "member", UserFactory(email="zoe@globex.test"))
    EmailAddress.objects.create(user=outsider, email="zoe@acme.test", verified=True, primary=False)
    created = provision(acme, "zoe@acme.test")
    assert ScimUser.objects.get(public_id=created["id"]).user is None


def test_a_member_the_directory_lists_under_their_sign_in_address_is_a_conflict_not_a_pending_user(acme):
    """Silently pending, the IdP's User would never reach them: the IdP is told instead."""
    member_with(acme, "mia@freemail.test", "mia@acme.test", listed=True)
    r = acme.scim.post("/Users", new_user("mia@acme.test"))
    assert r.status_code == 409, r.content
    assert not ScimUser.objects.filter(tenant=acme.tenant, user_name_key="mia@acme.test").exists()


def test_a_pending_user_is_linked_when_the_holder_of_its_address_joins(acme):
    """The IdP assigned the person before they were a member: their joining links it."""
    mia = UserFactory(email="mia@freemail.test")
    EmailAddress.objects.create(user=mia, email="mia@acme.test", verified=True, primary=False)
    created = provision(acme, "mia@acme.test")
    assert ScimUser.objects.get(public_id=created["id"]).user is None

    add_member(acme.orgs[0], "member", mia)

    assert ScimUser.objects.get(public_id=created["id"]).user == mia
    assert ScimUser.objects.filter(tenant=acme.tenant, user=mia, deleted_at__isnull=True).count() == 1
    _, raw = make_key(user=mia, tenant=acme.tenant, org=acme.orgs[0])
    r = acme.scim.patch(f"/Users/{created['id']}", patch_op({"op": "replace", "path": "active", "value": False}))
    assert r.status_code == 200, r.content
    assert key_status(raw) == 401


def test_a_pending_user_renamed_onto_a_members_verified_additional_address_is_linked(acme):
    mia = member_with(acme, "mia@freemail.test", "mia@acme.test")
    pending = provision(acme, "nobody-yet@elsewhere.test")
    r = acme.scim.patch(
        f"/Users/{pending['id']}", patch_op({"op": "replace", "path": "userName", "value": "MIA@acme.test"})
    )
    assert r.status_code == 200, r.content
    assert ScimUser.objects.get(public_id=pending["id"]).user == mia


@pytest.mark.parametrize("primary", ["mia@freemail.test", "mia@acme.test"])
def test_renaming_onto_an_address_the_account_holds_verified_is_no_conflict(acme, primary):
    mia = member_with(acme, primary, "m.smith@acme.test", listed=True)
    listed = ScimUser.objects.get(tenant=acme.tenant, user=mia)
    r = acme.scim.patch(
        f"/Users/{listed.public_id}", patch_op({"op": "replace", "path": "userName", "value": "M.Smith@acme.test"})
    )
    assert r.status_code == 200, r.content
    listed.refresh_from_db()
    assert listed.user == mia and listed.user_name == "M.Smith@acme.test"
    mia.refresh_from_db()
    assert mia.is_active
    assert any(a.verified for a in EmailAddress.objects.filter(user=mia, email__iexact="m.smith@acme.test"))


def test_renaming_onto_another_members_verified_address_stays_a_conflict(acme):
    add_member(acme.orgs[0], "member", UserFactory(email="ann@acme.test"))
    other = member_with(acme, "bob@acme.test", "team@acme.test", listed=True)
    ann = ScimUser.objects.get(tenant=acme.tenant, user_name_key="ann@acme.test")
    r = acme.scim.patch(
        f"/Users/{ann.public_id}", patch_op({"op": "replace", "path": "userName", "value": "team@acme.test"})
    )
    assert r.status_code == 409, r.content
    assert EmailAddress.objects.filter(user=other, email="team@acme.test").exists()
