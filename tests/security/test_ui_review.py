"""Found by an attacker review of the Django-rendered pages (2026-12-04). Expectations come
from the SPEC, not from the code:

- the pages that carry a second-factor secret (the TOTP setup key, the recovery codes just
  issued or regenerated) had no ``Cache-Control: no-store``, where the key, invitation and
  SCIM token pages have it (SPEC §3: responses that carry a secret, recovery codes included,
  are ``no-store``); fixed meanwhile by the identity review (0218413), these tests stay as
  its end-to-end guards;
- a session that never passed the account's second factor (one signed in before 2FA was
  enrolled on another device) could regenerate the recovery codes, enrol a replacement
  authenticator and turn 2FA off with the password alone: whoever holds such a session
  and the password mints themselves a second factor that outlives the session (SPEC §8:
  2FA with TOTP and single-use recovery codes; the passkey pages already refused this,
  "no new factor on the password alone").

The guards at the end passed before the review and keep what the member and key pages
got right (SPEC §1, §2a): integer user ids in the member forms reach nobody outside the
org, and no admin or tenant owner rotates another person's key from the UI.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from apikeys.models import ApiKey
from orgs.models import OrgMembership, TenantMembership
from tests.accounts.conftest import clock, enrol, setup_form, totp_code  # noqa: F401  (clock: a fixture)
from tests.factories import PASSWORD, UserFactory, add_member, make_tenant

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"\b(?:tater_|ak_|ck_)[0-9a-f]{32}\b")
RECOVERY_CODE = re.compile(r"\b[A-Z2-7]{4}(?:-[A-Z2-7]{4}){5}\b")


def sign_in(client: Client, user: Any) -> Any:
    return client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})


def no_store(response: Any) -> bool:
    return "no-store" in response.get("Cache-Control", "")


# --- SPEC §3 "Responses that carry a secret (..., 2FA tokens, recovery codes) are no-store" ---


def test_totp_setup_page_showing_the_authenticator_secret_is_not_cacheable(clock: Any) -> None:  # noqa: F811
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200 and "<svg" in page.content.decode()  # the QR code and setup key
    assert no_store(page), page.get("Cache-Control")


def test_recovery_codes_shown_after_enrolment_are_not_cacheable(clock: Any) -> None:  # noqa: F811
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    form = setup_form(client.get("/accounts/2fa/"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    clock.advance(5)
    done = client.post("/accounts/2fa/", {**form, "code": totp_code(device, clock.now)})
    assert done.status_code == 200 and len(RECOVERY_CODE.findall(done.content.decode())) >= 10
    assert no_store(done), done.get("Cache-Control")


def test_regenerated_recovery_codes_are_not_cacheable(clock: Any) -> None:  # noqa: F811
    _, user, _ = make_tenant()
    _, codes = enrol(user, clock.now)
    client = Client()
    sign_in(client, user)
    assert client.post("/accounts/2fa/challenge/", {"code": codes[0]}).status_code == 302
    page = client.post("/accounts/2fa/recovery-codes/")
    assert page.status_code == 200 and len(RECOVERY_CODE.findall(page.content.decode())) >= 10
    assert no_store(page), page.get("Cache-Control")


# --- SPEC §8: a session that never passed the second factor mints none ----------------------


@pytest.fixture
def unverified_session(clock: Any) -> tuple[Client, Any, list[str]]:  # noqa: F811
    """A session signed in with the password before the account enrolled 2FA elsewhere:
    it never presented the second factor the account now has."""
    _, user, _ = make_tenant()
    stale = Client()
    assert sign_in(stale, user).status_code == 302
    _, codes = enrol(user, clock.now)  # enrolled from another device
    assert account_services.has_2fa(user)
    return stale, user, codes


def test_unverified_session_cannot_regenerate_recovery_codes(unverified_session: Any) -> None:
    stale, user, codes = unverified_session
    response = stale.post("/accounts/2fa/recovery-codes/")
    assert not RECOVERY_CODE.search(response.content.decode())
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/verify/")
    # The owner's codes still work (none were replaced).
    assert account_services.verify_second_factor(user=user, code=codes[1]) is not None


def test_unverified_session_cannot_enrol_a_replacement_authenticator(unverified_session: Any, clock: Any) -> None:  # noqa: F811
    stale, user, _ = unverified_session
    original = TOTPDevice.objects.get(user=user, confirmed=True)
    page = stale.get("/accounts/2fa/?replace=1")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/2fa/verify/")
    # Even with a pending device of their own, confirming it from this session is refused.
    pending = account_services.totp_enrolment_start(user=user)
    clock.advance(60)
    done = stale.post(
        "/accounts/2fa/",
        {"code": totp_code(pending, clock.now), "shown": account_services.totp_enrolment_shown(pending)},
    )
    assert not RECOVERY_CODE.search(done.content.decode())
    assert TOTPDevice.objects.filter(pk=original.pk, confirmed=True).exists()
    assert not TOTPDevice.objects.filter(pk=pending.pk, confirmed=True).exists()


def test_unverified_session_cannot_turn_2fa_off_with_the_password(unverified_session: Any) -> None:
    stale, user, _ = unverified_session
    response = stale.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/verify/")
    assert account_services.has_2fa(user)


def test_verified_session_still_manages_its_second_factor(clock: Any) -> None:  # noqa: F811
    """The fix keeps the owner's path: pass the second factor (step-up), then act."""
    _, user, _ = make_tenant()
    stale = Client()
    sign_in(stale, user)
    device, _ = enrol(user, clock.now)
    clock.advance(30)
    step_up = stale.post("/accounts/2fa/verify/?next=/accounts/2fa/", {"code": totp_code(device, clock.now)})
    assert step_up.status_code == 302
    page = stale.post("/accounts/2fa/recovery-codes/")
    assert page.status_code == 200 and len(RECOVERY_CODE.findall(page.content.decode())) >= 10
    off = stale.post("/accounts/2fa/disable/", {"password": PASSWORD})
    assert off.status_code == 302 and not account_services.has_2fa(user)


# --- Guards (passed before the review): SPEC §1 "a foreign object is a 404", §2a ---------------


def _outsiders(world: dict[str, Any]) -> dict[str, Any]:
    """People the org1 member forms must not reach: a member of org2 only (same tenant)
    and the owner of another tenant."""
    return {"org2 member": add_member(world["org2"], "member"), "other tenant owner": world["other_owner"]}


@pytest.mark.parametrize("acting", ["admin", "owner"])
@pytest.mark.parametrize("target", ["org2 member", "other tenant owner"])
@pytest.mark.parametrize("form", ["role", "tenant-role", "remove"])
def test_guard_member_forms_reach_nobody_outside_the_org(
    world: dict[str, Any], acting: str, target: str, form: str
) -> None:
    victim = _outsiders(world)[target]
    before = (
        set(OrgMembership.objects.filter(user=victim).values_list("organization_id", "role")),
        set(TenantMembership.objects.filter(user=victim).values_list("tenant_id", "role")),
    )
    client = Client()
    client.force_login(world[acting])
    data = {
        "role": {f"m{victim.pk}-role": "viewer", f"m{victim.pk}-confirm": "on"},
        "tenant-role": {f"t{victim.pk}-tenant_role": "admin", f"t{victim.pk}-confirm": "on"},
        "remove": {},
    }[form]
    response = client.post(f"/members/{victim.pk}/{form}/?organizationId={world['org1'].public_id}", data)
    # A tenant admin-only form may answer 403 first (an org admin); never a change.
    assert response.status_code in (403, 404), response.status_code
    after = (
        set(OrgMembership.objects.filter(user=victim).values_list("organization_id", "role")),
        set(TenantMembership.objects.filter(user=victim).values_list("tenant_id", "role")),
    )
    assert after == before


@pytest.mark.parametrize("acting", ["admin", "owner"])
def test_guard_nobody_but_the_owner_rotates_a_key_from_the_ui(world: dict[str, Any], acting: str) -> None:
    """SPEC §2a: secrets go only to owners; the rotate form posted directly (the page hides
    its link) returns no secret and leaves the key's secret as it was."""
    target = ApiKey.objects.get(pk=world["member_key"].pk)
    client = Client()
    client.force_login(world[acting])
    response = client.post(
        f"/keys/{target.public_id}/rotate/", {"grace_period_seconds": "0", "submit_token": "t", "confirm": "on"}
    )
    assert not SECRET.search(response.content.decode())
    assert ApiKey.objects.get(pk=target.pk).digest == target.digest
    assert response.status_code in (400, 403, 404)


@pytest.mark.parametrize("action", ["rotate", "activate"])
def test_an_admin_gets_no_confirmation_page_for_what_only_the_owner_may_do(world: dict[str, Any], action: str) -> None:
    """The rotate and reactivate pages of another person's key answer 403 saying why, not a
    confirmation with a button that can only fail; revoking and deactivating stay open."""
    target = ApiKey.objects.get(pk=world["member_key"].pk)
    client = Client()
    client.force_login(world["admin"])
    page = client.get(f"/keys/{target.public_id}/{action}/")
    assert page.status_code == 403
    assert b"owner" in page.content
    # The reason alone: an org admin is not told to "ask an organization admin".
    assert b"Ask an organization admin" not in page.content
    for allowed in ("deactivate", "revoke"):
        assert client.get(f"/keys/{target.public_id}/{allowed}/").status_code == 200
    owner = Client()
    owner.force_login(world["member"])
    assert owner.get(f"/keys/{target.public_id}/rotate/").status_code == 200


def test_guard_switching_to_another_tenants_org_is_a_404(world: dict[str, Any]) -> None:
    stranger = UserFactory()
    add_member(world["org1"], "admin", user=stranger)
    client = Client()
    client.force_login(stranger)
    response = client.post("/orgs/switch/", {"org": world["other_org"].public_id, "next": "/keys/"})
    assert response.status_code == 404
    # And naming it in the query string of a page is a 404 too, not another tenant's data.
    page = client.get(f"/keys/?organizationId={world['other_org'].public_id}")
    assert page.status_code == 404 and world["other_key"].name not in page.content.decode()


def test_the_org_switch_address_opened_in_the_browser_goes_to_the_dashboard(world: dict[str, Any]) -> None:
    """A GET of /orgs/switch/ (typed, bookmarked) was a 405 with an empty body: a blank error
    page. It changes nothing and leads to the dashboard, where the switcher is."""
    client = Client()
    client.force_login(world["admin"])
    response = client.get("/orgs/switch/?org=anything")
    assert (response.status_code, response["Location"]) == (302, "/")
