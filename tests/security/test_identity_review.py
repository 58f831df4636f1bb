"""Found by an attacker review of the identity lifecycle (2026-12-04), expectations from
SPEC §8 (verified domains) and §13 (SCIM):

- a tenant's SCIM token renamed the sign-in address of a member whose address lies outside
  the tenant's verified domains (a guest the tenant never proved it speaks for) to an
  address of its own choosing: a password reset to that address then takes the account
  over. The directory changes an account's email only when the tenant's verified domains
  hold the account's current address;
- a tenant SSO configuration switched off (``is_active`` false) still signed people in
  through its identity provider, with none of the verified-domain rules: any self-service
  tenant owner could point one at an IdP of their own and mint Tater accounts, marked
  verified, for any address (which another tenant's admin then adds directly, SPEC §8);
- the pages showing the authenticator's secret (QR code) and the recovery codes had no
  ``Cache-Control: no-store`` (SPEC §3), unlike the key's and the SCIM token's show-once pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import requests
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import sso
from orgs import members
from tests.accounts.conftest import setup_form, totp_code
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import PASSWORD, UserFactory, add_member, make_tenant, oidc_sso
from tests.scim.conftest import DOMAIN, Directory, make_directory, patch_op

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def acme(db: Any) -> Directory:
    """Tenant Acme: acme.test verified, a SCIM token (tests/scim/conftest.py's directory)."""
    return make_directory("Acme", DOMAIN)


# --- SPEC §8 "links or provisions accounts only for an email domain the tenant has proven
# it controls" and §13 SCIM: the directory never takes over an address it does not control.


def _scim_id(directory: Any, email: str) -> str:
    r = directory.scim.get(f'/Users?filter=userName eq "{email}"')
    assert r.status_code == 200, r.content
    found = r.json()["Resources"]
    assert len(found) == 1, found
    return str(found[0]["id"])


def test_scim_cannot_move_a_guest_account_to_an_address_of_the_tenants_choosing(acme: Any) -> None:
    """A tenant's guest (an address outside its verified domains, no other tenant) is listed
    by the directory sync; its token renames the account to mallory@acme.test and resets
    the password there: the guest's account is the tenant's now."""
    guest = add_member(acme.orgs[0], "member", UserFactory(email="bob@freemail.test"))
    user_id = _scim_id(acme, "bob@freemail.test")
    r = acme.scim.patch(
        f"/Users/{user_id}", patch_op({"op": "replace", "path": "userName", "value": "mallory@acme.test"})
    )
    assert r.status_code == 400, r.content
    guest.refresh_from_db()
    assert guest.email == "bob@freemail.test"
    assert EmailAddress.objects.filter(user=guest, email="bob@freemail.test", verified=True).exists()
    # No reset link for the account reaches the tenant's mailbox.
    Client().post("/accounts/password/reset/", {"email": "mallory@acme.test"})
    links = [m for m in mail.outbox if "mallory@acme.test" in m.to and "/password/reset/key/" in m.body]
    assert not links


def test_guard_scim_still_renames_an_account_in_its_own_verified_domain(acme: Any) -> None:
    """(Passes today; guards the fix above.) The tenant's own people follow the directory."""
    own = add_member(acme.orgs[0], "member", UserFactory(email="ann@acme.test"))
    user_id = _scim_id(acme, "ann@acme.test")
    r = acme.scim.patch(
        f"/Users/{user_id}", patch_op({"op": "replace", "path": "userName", "value": "ann.b@acme.test"})
    )
    assert r.status_code == 200, r.content
    own.refresh_from_db()
    assert own.email == "ann.b@acme.test"


# --- SPEC §8: SSO links or provisions accounts only for a domain the tenant verified; a
# configuration switched off routes, links and provisions nothing.


@pytest.fixture
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


def _sso_round_trip(client: Client, idp: OIDCProvider, config: Any, **claims: Any) -> Any:
    idp.claims = claims
    start = client.post(sso.login_url(config))
    if start.status_code != 302 or not start["Location"].startswith(idp.issuer):
        return start
    at_idp = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(at_idp.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_a_switched_off_sso_configuration_mints_no_accounts_for_foreign_addresses(idp: OIDCProvider) -> None:
    """Mallory, owner of her self-service tenant (no verified domain), configures SSO with
    her own IdP and switches it off; its login URL still works and her IdP's word makes
    ceo@bigcorp.test a verified Tater account, which BigCorp's admin then adds directly."""
    tenant, mallory, _ = make_tenant(name="Mallory", orgs=1)
    config = oidc_sso(tenant, mallory, idp, is_active=False)
    client = Client()
    _sso_round_trip(client, idp, config, sub="m-1", email="ceo@bigcorp.test", email_verified=True)
    assert not User.objects.filter(email="ceo@bigcorp.test").exists()
    assert client.get("/api/v1/me").status_code == 401
    # What the squatted account would have bought: a direct add by BigCorp's admin.
    _, bigcorp_owner, (bigcorp_org,) = make_tenant(name="BigCorp", orgs=1)
    result = members.member_add_by_email(
        organization=bigcorp_org, email="ceo@bigcorp.test", role="admin", actor=bigcorp_owner, accept_url=str
    )
    assert result.result == "invited"


# --- SPEC §3: "Responses that carry a secret (key creation, rotation, credential exchange,
# 2FA tokens, recovery codes) are Cache-Control: no-store." The key's and the SCIM token's
# show-once pages are; the authenticator's secret and the recovery codes were not.


def _no_store(response: Any) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_pages_showing_the_totp_secret_and_recovery_codes_are_no_store() -> None:
    _, user, _ = make_tenant()
    client = Client()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    setup = client.get("/accounts/2fa/")
    assert setup.status_code == 200 and "<svg" in setup.content.decode()  # the TOTP secret, as a QR code
    assert _no_store(setup), setup.get("Cache-Control")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    confirmed = client.post("/accounts/2fa/", {**setup_form(setup), "code": totp_code(device)})
    assert confirmed.status_code == 200 and "<code>" in confirmed.content.decode()  # the recovery codes
    assert _no_store(confirmed), confirmed.get("Cache-Control")
    regenerated = client.post("/accounts/2fa/recovery-codes/")
    assert regenerated.status_code == 200 and "<code>" in regenerated.content.decode()
    assert _no_store(regenerated), regenerated.get("Cache-Control")
