"""Review s34 (A): identity and name normalization.

An address, a domain or an id written differently must name the same identity (and meet
the same rules, limits and lockout) or be refused, never be a way around a rule:

- SPEC §6/§8: "failed sign-ins are counted against the account, whatever spelling reached
  it". allauth's sign-in accepts an additional address the account never verified; the
  lockout counted such an address as an account of its own: a locked account stayed open
  through it, and each such address was a fresh budget of guesses against the password.
- SPEC §8 (one account per address): mail (Django punycodes the domain) and the verified
  domains compare domains through IDNA, the accounts' keys did not: ``boss@xn--bcher-kva.test``
  (the ASCII form), ``boss@bücher.test`` and ``boss@ac\u00adme.test`` (a soft hyphen IDNA
  drops) were separate accounts of one mailbox, an invitation typed in one form could not be
  accepted by the holder of the other, and SCIM created a second account instead of
  linking the person.

The rest hold already and stay pinned: ``create_tenant --owner-email`` and an account squatted
under another spelling (fixed meanwhile on main, tests/operators/test_create_tenant_owner.py),
domain claims under every spelling, "SSO required" under every spelling of an address, org and
tenant ids in hints.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import TenantDomain, TenantSSOConfig
from orgs.models import Invitation, OrgMembership, Tenant, TenantMembership
from scim.models import ScimUser
from tests.factories import PASSWORD, UserFactory, add_member, make_key, make_tenant
from tests.scim.conftest import make_directory, new_user

pytestmark = pytest.mark.django_db

User = get_user_model()


def sign_up(email: str) -> Any:
    return Client().post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def json_login(email: str, password: str, ip: str) -> Any:
    return APIClient().post("/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def ui_login(email: str, password: str, ip: str) -> tuple[Client, Any]:
    client = Client(REMOTE_ADDR=ip)
    return client, client.post("/accounts/login/", {"login": email, "password": password})


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/me").status_code == 200


@pytest.fixture
def tight_lockout(settings: Any) -> None:
    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 3
    settings.TATER_LOCKOUT_CLIENT_FAILURES = 1000


# --- create_tenant --owner-email: a pre-registered look-alike never becomes an owner --------------


def create_tenant(name: str, owner_email: str) -> dict[str, Any]:
    out = io.StringIO()
    call_command("create_tenant", "--name", name, "--owner-email", owner_email, "--json", stdout=out)
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


@pytest.mark.parametrize("typed", ["ceo@newco.test", "CEO@NewCo.test", "\uff43eo@newco.test", " ceo@newco.te\u017ft "])
def test_create_tenant_does_not_hand_the_tenant_to_an_account_that_never_verified_the_address(typed: str) -> None:
    assert sign_up("ceo@newco.test").status_code == 302  # anyone may sign up with any address
    squatter = User.objects.get(email="ceo@newco.test")
    assert not EmailAddress.objects.filter(user=squatter, verified=True).exists()

    out = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("create_tenant", "--name", "NewCo", "--owner-email", typed, "--json", stdout=out)
    assert refused.value.returncode == 1
    answer = json.loads(out.getvalue().strip().splitlines()[-1])
    assert answer["error"] == "VALIDATION_ERROR" and "verified" in answer["message"]
    assert not Tenant.objects.filter(name="NewCo").exists()
    assert not TenantMembership.objects.filter(user=squatter, tenant__name="NewCo").exists()


def test_create_tenant_gives_the_tenant_to_the_account_that_verified_the_address() -> None:
    holder = UserFactory(email="ceo@newco.test")  # verified, as after confirming the address
    made = create_tenant("NewCo", "CEO@NewCo.test")
    assert made["owner_id"] == holder.public_id
    assert TenantMembership.objects.filter(user=holder, tenant__public_id=made["tenant_id"], role="owner").exists()
    # A new address still gets a new account (its holder sets a password through reset).
    fresh = create_tenant("Initech", "boss@initech.test")
    assert User.objects.get(public_id=fresh["owner_id"]).email == "boss@initech.test"


# --- Lockout: an additional address, verified or not, is the account --------------------------------


@pytest.fixture
def alice(tight_lockout: None) -> Any:
    user = UserFactory(email="alice@corp.test")
    EmailAddress.objects.create(user=user, email="alice.old@corp.test", verified=False, primary=False)
    return user


def test_an_unverified_additional_address_reaches_the_account_only_while_it_is_not_locked(alice: Any) -> None:
    client, response = ui_login("alice.old@corp.test", PASSWORD, "192.0.2.1")
    assert response.status_code == 302 and signed_in(client)  # allauth accepts it: it is the account
    for i in range(3):
        ui_login("alice@corp.test", "wrong-password-1", f"192.0.2.{10 + i}")
    assert json_login("alice@corp.test", PASSWORD, "198.51.100.1").json()["error"] == "LOCKED_OUT"
    for spelling in ("alice.old@corp.test", "ALICE.OLD@corp.te\u017ft"):
        client, response = ui_login(spelling, PASSWORD, "198.51.100.2")
        assert response.status_code == 429, spelling
        assert not signed_in(client)


def test_guesses_through_an_unverified_additional_address_count_against_the_account(alice: Any) -> None:
    for i, spelling in enumerate(["alice.old@corp.test", "Alice.Old@Corp.test", "alice.old@corp.test"]):
        ui_login(spelling, "wrong-password-1", f"192.0.2.{20 + i}")
    response = json_login("alice@corp.test", PASSWORD, "198.51.100.3")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")
    client, response = ui_login("alice@corp.test", PASSWORD, "198.51.100.4")
    assert response.status_code == 429 and not signed_in(client)


# --- The domain of an address is compared through IDNA, as mail and the verified domains do ---------

UNICODE = "boss@b\u00fccher.test"
SAME_MAILBOX = [
    "boss@xn--bcher-kva.test",  # the ASCII (punycode) form mail is sent to
    "BOSS@XN--BCHER-KVA.TEST",
    "boss@b\u00fcc\u00adher.test",  # a soft hyphen: IDNA drops it
    "boss@b\u00fccher\u200b.test",  # a zero-width space: likewise
    "boss@bu\u0308cher.test",  # decomposed u + combining diaeresis
]


@pytest.fixture
def boss(tight_lockout: None) -> Any:
    return UserFactory(email=UNICODE)


@pytest.mark.parametrize("spelling", SAME_MAILBOX)
def test_sign_up_with_another_form_of_the_domain_collides_with_the_account(boss: Any, spelling: str) -> None:
    response = sign_up(spelling)
    assert response.status_code == 200  # the form again, with an error; never a 500
    assert User.objects.count() == 1


@pytest.mark.parametrize("spelling", SAME_MAILBOX)
def test_every_form_of_the_domain_signs_in_to_the_one_account(boss: Any, spelling: str) -> None:
    response = json_login(spelling, PASSWORD, "192.0.2.30")
    assert response.status_code == 200, (spelling, response.content)
    assert response.json()["user"]["user"]["id"] == boss.public_id


def test_failures_under_every_form_of_the_domain_lock_the_one_account(boss: Any) -> None:
    for i, spelling in enumerate(SAME_MAILBOX[:3]):
        json_login(spelling, "wrong-password-1", f"192.0.2.{40 + i}")
    response = json_login(UNICODE, PASSWORD, "198.51.100.5")
    assert (response.status_code, response.json()["error"]) == (429, "LOCKED_OUT")
    client, response = ui_login(SAME_MAILBOX[0], PASSWORD, "198.51.100.6")
    assert response.status_code == 429 and not signed_in(client)


def test_an_invitation_typed_in_the_ascii_form_reaches_the_holder_of_the_address(boss: Any) -> None:
    tenant, owner, (org,) = make_tenant(name="Verlag")
    _, raw = make_key(user=owner, tenant=tenant, org=org)
    response = APIClient().post(
        f"/api/v1/organizations/{org.public_id}/members/",
        {"email": "Boss@XN--BCHER-KVA.test", "role": "member"},
        format="json",
        HTTP_X_API_KEY=raw,
    )
    assert response.status_code == 201, response.content
    # Verified address of an existing account: added directly (SPEC §8), no second identity.
    assert response.json()["result"] == "added"
    assert OrgMembership.objects.filter(organization=org, user=boss, role="member").exists()
    assert not Invitation.objects.filter(organization=org).exists()


def test_an_invitation_to_another_form_of_the_domain_is_accepted_by_its_verified_holder(
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant, owner, (org,) = make_tenant(name="Verlag")
    _, raw = make_key(user=owner, tenant=tenant, org=org)
    with django_capture_on_commit_callbacks(execute=True):
        sent = APIClient().post(
            f"/api/v1/organizations/{org.public_id}/members/",
            {"email": "new@xn--bcher-kva.test", "role": "viewer"},
            format="json",
            HTTP_X_API_KEY=raw,
        )
    assert sent.status_code == 201 and sent.json()["result"] == "invited", sent.content
    link = next(line for line in mail.outbox[-1].body.split() if "/invitations/" in line)
    path = link[link.index("/invitations/") :]
    holder = UserFactory(email="new@b\u00fccher.test")  # signed up and confirmed later
    client = Client()
    client.force_login(holder)
    assert client.post(path).status_code == 302
    assert OrgMembership.objects.filter(organization=org, user=holder, role="viewer").exists()


def test_scim_links_the_person_under_another_form_of_the_domain_instead_of_a_second_account() -> None:
    directory = make_directory("Verlag", "xn--bcher-kva.test")
    person = add_member(directory.orgs[0], "member", user=UserFactory(email=UNICODE))
    # The member is listed in the directory as they join (review s36): the IdP's POST under
    # another spelling of the address is refused as taken, never a second account.
    response = directory.scim.post("/Users", new_user("Boss@xn--bcher-kva.test"))
    assert response.status_code == 409, response.content
    assert User.objects.filter(email_canonical__contains="boss@").count() == 1
    assert (
        ScimUser.objects.get(tenant=directory.tenant, deleted_at__isnull=True, user_name_key__contains="boss@").user
        == person
    )
    found = directory.scim.get('/Users?filter=userName eq "boss@b\u00fcc\u00adher.test"')
    assert found.json()["totalResults"] == 1


# --- Already holding: claims, SSO required, hints (pinned) --------------------------------------------


def test_a_domain_verified_by_one_tenant_cannot_be_claimed_by_another_under_any_spelling() -> None:
    first, _, _ = make_tenant(name="Verlag")
    TenantDomain.objects.create(tenant=first, domain="xn--bcher-kva.test", verified_at=timezone.now())
    _, outsider, _ = make_tenant(name="Squatter")
    client = Client()
    client.force_login(outsider)
    squatter = Tenant.objects.get(name="Squatter")
    for typed in (
        "b\u00fccher.test",
        "B\u00dcCHER.TEST.",
        "XN--BCHER-KVA.test",
        "@b\u00fcc\u00adher.test",
        " b\u00fccher\u3002test ",
    ):
        client.post("/accounts/sso/domains/", {"tenant": squatter.public_id, "domain": typed})
        assert not TenantDomain.objects.filter(tenant=squatter).exists(), typed


@pytest.fixture
def sso_required_idn(tight_lockout: None) -> Any:
    tenant, _, (org,) = make_tenant(name="Verlag")
    TenantDomain.objects.create(tenant=tenant, domain="xn--bcher-kva.test", verified_at=timezone.now())
    TenantSSOConfig.objects.create(
        tenant=tenant,
        provider_id="tenant-verlag",
        issuer="https://idp.verlag.example",
        client_id="tater",
        require_sso=True,
        is_active=True,
    )
    return add_member(org, "member", user=UserFactory(email=UNICODE))


@pytest.mark.parametrize("spelling", [UNICODE, *SAME_MAILBOX])
def test_sso_required_holds_under_every_form_of_the_domain(sso_required_idn: Any, spelling: str) -> None:
    client, response = ui_login(spelling, PASSWORD, "192.0.2.50")
    assert not signed_in(client), spelling
    api = json_login(spelling, PASSWORD, "192.0.2.51")
    assert api.status_code in (401, 403) and "sessionid" not in api.cookies, (spelling, api.content)
    assert sign_up(spelling.replace("boss", "newcomer")).status_code == 200  # a new address of the domain: refused
    assert not User.objects.filter(email_canonical__startswith="newcomer").exists()


def test_org_and_tenant_hints_name_an_org_exactly(world: dict[str, Any]) -> None:
    org, raw = world["org1"], world["owner_raw"]
    api = APIClient()
    same = api.get("/api/v1/scans/", {"organizationId": f" {org.public_id} "}, HTTP_X_API_KEY=raw)
    assert same.status_code == 200  # surrounding spaces: the same id
    for hint in (org.public_id.upper(), org.public_id.replace("-", "", 1), f"0{org.public_id}"):
        response = api.get("/api/v1/scans/", {"organizationId": hint}, HTTP_X_API_KEY=raw)
        assert (response.status_code, response.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED"), hint
        response = api.get("/api/v1/scans/", HTTP_X_API_KEY=raw, HTTP_X_WORKSPACE_ID=hint)
        assert response.status_code == 403, hint
    response = api.get("/api/v1/scans/", {"tenantId": world["tenant"].public_id.upper()}, HTTP_X_API_KEY=raw)
    assert (response.status_code, response.json()["error"]) == (403, "WORKSPACE_ACCESS_DENIED")


# --- accounts 0011: stored keys are recomputed, accounts that became one address are named ---------

BEFORE_0011 = [("accounts", "0010_user_home_tenant"), ("scim", "0001_initial"), ("orgs", "0002_invitation")]
AFTER_0011 = [("accounts", "0011_email_keys_compare_domains_through_idna")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _migrate_to_latest() -> None:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    _migrate(MigrationLoader(connection).graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migration_0011_recomputes_the_keys_of_accounts_and_directory_users() -> None:
    apps = _migrate(BEFORE_0011)
    try:
        old_user = apps.get_model("accounts", "User")
        old_user.objects.create(
            email="boss@xn--bcher-kva.test", email_canonical="boss@xn--bcher-kva.test", password="!"
        )
        old_user.objects.create(email="ada@acme.test", email_canonical="ada@acme.test", password="!")
        apps = _migrate(AFTER_0011)
        keys = dict(apps.get_model("accounts", "User").objects.values_list("email", "email_canonical"))
        assert keys == {"boss@xn--bcher-kva.test": "boss@b\u00fccher.test", "ada@acme.test": "ada@acme.test"}
    finally:
        _migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_migration_0011_stops_on_two_accounts_of_one_address() -> None:
    apps = _migrate(BEFORE_0011)
    try:
        old_user = apps.get_model("accounts", "User")
        old_user.objects.create(
            email="boss@xn--bcher-kva.test", email_canonical="boss@xn--bcher-kva.test", password="!"
        )
        old_user.objects.create(email="boss@b\u00fccher.test", email_canonical="boss@b\u00fccher.test", password="!")
        with pytest.raises(RuntimeError, match="same email address"):
            _migrate(AFTER_0011)
        old_user.objects.filter(email="boss@b\u00fccher.test").delete()  # the operator merges them
    finally:
        _migrate_to_latest()
