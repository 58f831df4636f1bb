"""Review s48 (M): a person in two tenants links, and later unlinks, one tenant's identity
provider. Bob joined Globex first (his home tenant, where his account events are filed) and is
also a member of Acme, which verified acme.test and runs its own IdP. His first sign-in
through Acme's IdP links his account to an identity of Acme's IdP (its issuer and subject).

That identity is Acme's: Acme's log records who linked and unlinked its IdP (as it records a
person its IdP provisions, and every sign-in its IdP was refused), and Globex's log shows
nothing of it, neither that Bob uses another tenant's IdP nor the subject Acme's IdP knows him
by (SPEC §1: nothing of one tenant is ever visible to another; SPEC §7). Before, both entries
went to Globex's log only, the unlink with Acme's subject id, and Acme's owners never saw who
linked their IdP. An identity of a provider no tenant runs (Google, Microsoft) is the
person's own: still filed under their home tenant (tests/audit/test_review_e_admin_social.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from audit.models import AuditEvent
from tests.accounts.conftest import verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_sso_oidc import sso_sign_in
from tests.factories import PASSWORD, UserFactory, add_member, make_tenant, oidc_sso
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(acme_idp: OIDCProvider) -> dict[str, Any]:
    globex, _, (globex_org,) = make_tenant(name="Globex")
    acme, acme_owner, (acme_org,) = make_tenant(name="Acme")
    oidc_sso(acme, acme_owner, acme_idp)
    verified_domain(acme, "acme.test")
    bob = UserFactory(email="bob@acme.test")
    add_member(globex_org, "member", bob)  # first: Globex is his home tenant
    add_member(acme_org, "member", bob)
    return {"bob": bob, "acme": acme, "globex": globex}


def _linked_through_acme(world: dict[str, Any], acme_idp: OIDCProvider) -> Client:
    client = Client()
    done = sso_sign_in(client, acme_idp, "bob@acme.test", sub="acme-subject-0042")
    assert done.status_code == 302, done.content[:800]
    assert SocialAccount.objects.filter(user=world["bob"], uid="acme-subject-0042").exists()
    return client


def test_linking_acme_idp_is_in_acmes_log_not_globexs(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    _linked_through_acme(world, acme_idp)
    linked = AuditEvent.objects.filter(action="user.sso_linked", target_id=world["bob"].public_id)
    assert linked.filter(tenant=world["acme"]).count() == 1
    assert not linked.filter(tenant=world["globex"]).exists()


def test_unlinking_it_is_in_acmes_log_and_globex_never_sees_the_subject(
    world: dict[str, Any], acme_idp: OIDCProvider
) -> None:
    _linked_through_acme(world, acme_idp)
    client = Client()
    assert client.post("/accounts/login/", {"login": "bob@acme.test", "password": PASSWORD}).status_code == 302
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    link = SocialAccount.objects.get(user=world["bob"])
    assert client.post("/accounts/3rdparty/", {"account": link.pk}).status_code == 302
    assert not SocialAccount.objects.filter(pk=link.pk).exists()
    unlinked = AuditEvent.objects.filter(action="user.sso_unlinked", target_id=world["bob"].public_id)
    assert unlinked.filter(tenant=world["acme"]).count() == 1
    assert not unlinked.filter(tenant=world["globex"]).exists()
    globex_log = [str(entry.changes) for entry in AuditEvent.objects.filter(tenant=world["globex"])]
    assert not any("acme-subject-0042" in text for text in globex_log)


def test_an_operators_unlink_is_in_acmes_log_too(world: dict[str, Any], acme_idp: OIDCProvider) -> None:
    _linked_through_acme(world, acme_idp)
    link = SocialAccount.objects.get(user=world["bob"])
    answer = superuser_in_admin().post(f"/admin/socialaccount/socialaccount/{link.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    entry = AuditEvent.objects.get(action="user.sso_unlinked")
    assert (entry.tenant_id, entry.channel) == (world["acme"].pk, "admin")
