"""Review s36: an identity provider's read writes nothing.

``GET /Users`` created the directory's Users of the tenant's existing members on the read,
unaudited (and went over every member on every listing, SPEC §12). The directory now gets
them from writes: the tenant's first SCIM token seeds it (audited), and a person joining a
tenant with a directory is listed as they join (audited); ``manage.py
seed_scim_directories`` lists the members of tenants whose directory predates this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.core.management import call_command

from audit.models import AuditEvent
from orgs import services as org_services
from scim.models import ScimUser
from scim.services import tokens as token_services
from tests.factories import UserFactory, add_member, make_tenant
from tests.scim.conftest import Directory, ScimClient, make_directory, patch_op, provision, verify_domain


def _written(tenant: Any) -> tuple[int, int]:
    return ScimUser.objects.filter(tenant=tenant).count(), AuditEvent.objects.filter(tenant_id=tenant.pk).count()


def _find(scim: ScimClient, user_name: str) -> list[dict[str, Any]]:
    r = scim.get("/Users?filter=" + quote(f'userName eq "{user_name}"'))
    assert r.status_code == 200, r.content
    return list(r.json()["Resources"])


def _tenant_with_members_then_token(name: str, domain: str) -> tuple[Any, Any, ScimClient]:
    tenant, owner, (org,) = make_tenant(name=name, owner=UserFactory(email=f"owner@{domain}"))
    add_member(org, "member", user=UserFactory(email=f"carol@{domain}"))
    add_member(org, "admin", user=UserFactory(email=f"dave@{domain}"))
    verify_domain(tenant, domain)
    issued = token_services.scim_token_create(tenant=tenant, name="IdP", actor=owner)
    return tenant, owner, ScimClient(issued.secret)


def test_listing_users_writes_nothing_yet_finds_the_existing_members(db: Any) -> None:
    tenant, _owner, scim = _tenant_with_members_then_token("Readonly", "readonly.test")
    before = _written(tenant)

    listing = scim.get("/Users")
    found = _find(scim, "carol@readonly.test")

    assert listing.status_code == 200
    assert listing.json()["totalResults"] == 3  # the owner, carol, dave
    assert [u["userName"] for u in found] == ["carol@readonly.test"]
    assert _written(tenant) == before


def test_the_first_token_seeds_the_directory_in_one_audited_entry(db: Any) -> None:
    tenant, owner, _scim = _tenant_with_members_then_token("Seeded", "seeded.test")

    entry = AuditEvent.objects.get(tenant_id=tenant.pk, action="scim_directory.seeded")
    assert entry.changes["users"]["count"] == 3
    assert entry.actor_email == owner.email
    assert ScimUser.objects.filter(tenant=tenant, deleted_at__isnull=True).count() == 3

    token_services.scim_token_create(tenant=tenant, name="Second IdP", actor=owner)
    assert AuditEvent.objects.filter(tenant_id=tenant.pk, action="scim_directory.seeded").count() == 1


def test_a_person_who_joins_after_the_token_is_found_and_the_read_writes_nothing(db: Any) -> None:
    d = make_directory("Joiner", "joiner.test", orgs=1)
    erin = add_member(d.orgs[0], "member", user=UserFactory(email="erin@joiner.test"))
    listed = AuditEvent.objects.filter(tenant_id=d.tenant.pk, action="scim_user.listed", target_repr__contains="erin")
    assert listed.count() == 1
    before = _written(d.tenant)

    found = _find(d.scim, "erin@joiner.test")

    assert [u["userName"] for u in found] == ["erin@joiner.test"]
    assert ScimUser.objects.get(public_id=found[0]["id"]).user == erin
    assert _written(d.tenant) == before
    # The IdP finds the person, so posting them again is refused rather than duplicated.
    r = d.scim.post("/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": erin.email})
    assert r.status_code == 409, r.content


def test_a_pending_user_is_linked_when_the_account_joins_not_when_the_idp_reads(db: Any) -> None:
    d: Directory = make_directory("Pending", "pending.test", orgs=1)
    guest = UserFactory(email="gil@elsewhere.test")
    pending = provision(d, guest.email)
    assert ScimUser.objects.get(public_id=pending["id"]).user is None

    before = _written(d.tenant)
    assert len(_find(d.scim, guest.email)) == 1
    assert _written(d.tenant) == before

    org_services.org_member_set(organization=d.orgs[0], user=guest, role="member", actor=d.owner)

    assert ScimUser.objects.get(public_id=pending["id"]).user == guest
    assert AuditEvent.objects.filter(tenant_id=d.tenant.pk, action="scim_user.linked").count() == 1
    assert ScimUser.objects.filter(tenant=d.tenant, user=guest).count() == 1


def test_a_directory_older_than_seeding_is_seeded_by_the_command(db: Any) -> None:
    tenant, _owner, scim = _tenant_with_members_then_token("Legacy", "legacy.test")
    ScimUser.objects.filter(tenant=tenant).delete()  # as a release that seeded nothing left it

    assert _find(scim, "carol@legacy.test") == []
    assert ScimUser.objects.filter(tenant=tenant).count() == 0

    call_command("seed_scim_directories")

    assert [u["userName"] for u in _find(scim, "carol@legacy.test")] == ["carol@legacy.test"]
    entries = AuditEvent.objects.filter(tenant_id=tenant.pk, action="scim_directory.seeded").order_by("id")
    assert [e.changes["users"]["count"] for e in entries] == [3, 3]
    last = entries.last()
    assert last is not None and last.channel == "system"

    call_command("seed_scim_directories")  # nothing left to list: no entry
    assert entries.count() == 2


def test_a_pending_user_renamed_into_a_verified_domain_in_a_mapped_group_is_one_user(db: Any) -> None:
    # Renaming the pending User creates the account, links it, and its group makes it a member:
    # the join must find the User being linked, not list the account a second time.
    from tests.scim.test_lifecycle import group_with

    d = make_directory("Renamed", "renamed.test", orgs=1)
    pending = provision(d, "ann")
    group_with(d, "Staff", pending["id"], org=d.orgs[0])

    r = d.scim.patch(
        f"/Users/{pending['id']}", patch_op({"op": "replace", "path": "userName", "value": "ann@renamed.test"})
    )

    assert r.status_code == 200, r.content
    (identity,) = ScimUser.objects.filter(tenant=d.tenant, user__email="ann@renamed.test")
    assert identity.public_id == pending["id"]
    assert identity.user is not None
    assert identity.user.org_memberships.filter(organization=d.orgs[0]).exists()
