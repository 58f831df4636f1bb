"""Review: the SPEC's invariants under truly concurrent requests and service calls, on
PostgreSQL (each thread its own connection, committed transactions).

Each race is lined up deterministically: the calls are held at a point past their checks
(a ``Rendezvous``) until every one of them has reached it, has finished, or waits on a
database lock another holds; then all go on. A correct implementation either serialises the
calls (they finish or wait on a lock) or refuses the extra ones before the point.

Findings (failing on the code this review started from):

- SPEC §1 (owner = the tenant's administrator; the last owner cannot be removed or
  demoted): two owners demoting (or removing) each other at once left the tenant with no
  owner: each counted two owners (``select_for_update().count()`` locks nothing: Django
  drops FOR UPDATE from aggregates) and each changed a different row. Fixed:
  ``tenant_member_set`` locks the tenant row first, so a tenant's role changes queue.
- SPEC §6 / §12 (10 failed sign-ins against one account lock its password sign-in; the
  lockout stops guessing, across nodes): every sign-in that passed the lock check before
  the 10th failure was counted had its password checked, so a burst of concurrent guesses
  (from many addresses) gets as many password checks as it has requests in flight: 9
  failures, then 12 guesses at once: all 12 checked, 20 failed sign-ins, and the right
  password among them signs in (200) although the account locked at the 10th failure.
  Fixed: ``lockout.check_account`` takes the account's attempt slot (one credential check
  at a time per account; the others get 429 at once) until the request ends.

Guards of invariants no concurrent test covered (passing):

- an invitation token is single-use (SPEC §8) under simultaneous accepts;
- two rotations at once leave one current secret and one rotated-out secret in its grace
  period; the original secret is dead (SPEC §2);
- a domain is verified by one tenant at most (SPEC §8) when two tenants verify at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory, add_member, make_key, make_tenant

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]


class Rendezvous:
    """Holds each thread that reaches ``hold()`` until all ``n`` threads have reached it,
    finished, or wait on a database lock (then nothing more can arrive)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.arrived = 0
        self.threads: set[int] = set()  # which threads arrived (one may pass twice)
        self.finished = 0
        self._lock = threading.Lock()
        self._go = threading.Event()

    def hold(self) -> None:
        with self._lock:
            self.arrived += 1
            self.threads.add(threading.get_ident())
        self._go.wait(timeout=30)

    def done(self) -> None:
        with self._lock:
            self.finished += 1

    def release_when_settled(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
                )
                waiting = cursor.fetchone()[0]
            with self._lock:
                if self.arrived + self.finished + waiting >= self.n:
                    break
            time.sleep(0.002)  # polling, not ordering: the condition decides when to go on
        self._go.set()


def race(calls: list[Callable[[], Any]], rendezvous: Rendezvous) -> list[Any]:
    """Run ``calls`` in threads started together; results (or exceptions) in their order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            start.wait()
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we look at
            results[i] = exc
        finally:
            rendezvous.done()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    rendezvous.release_when_settled()
    for t in threads:
        t.join(timeout=60)
    return results


def held(monkeypatch: Any, target: Any, name: str, rendezvous: Rendezvous) -> None:
    """Make ``target.name`` wait at ``rendezvous`` before doing its work."""
    original = getattr(target, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rendezvous.hold()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


# --- SPEC §1: the last owner cannot be removed or demoted -----------------------------------


@pytest.mark.parametrize("how", ["demote", "remove"])
def test_two_owners_demoting_each_other_at_once_leave_an_owner(monkeypatch: Any, how: str) -> None:
    from orgs import members
    from orgs import services as org_services
    from orgs.models import TenantMembership

    tenant, alice, (org,) = make_tenant(name="Acme")
    bob = add_member(org, "admin")
    org_services.tenant_member_set(tenant=tenant, user=bob, role="owner", actor=alice)

    def change(actor: Any, user: Any) -> Callable[[], Any]:
        if how == "demote":
            return lambda: members.member_update(organization=org, user=user, actor=actor, tenant_role="admin")
        return lambda: members.member_remove(organization=org, user=user, actor=actor)

    # Held once past the last-owner check, before the change commits (its audit entry).
    rendezvous = Rendezvous(2)
    held(monkeypatch, org_services, "audit_record", rendezvous)
    results = race([change(alice, bob), change(bob, alice)], rendezvous)

    owners = TenantMembership.objects.filter(tenant=tenant, role="owner").count()
    assert owners == 1, (owners, results)
    assert sum(1 for r in results if isinstance(r, Exception)) == 1, results


# --- SPEC §6 / §12: the account lockout stops guessing, concurrent guesses included ---------


def test_concurrent_guesses_get_no_more_password_checks_than_the_account_lockout_allows(
    monkeypatch: Any, settings: Any
) -> None:
    """An attacker from many addresses (so no per-address limit applies) has made 9 wrong
    guesses; the 10th failed sign-in locks the account. A burst of guesses at once must not
    have more of its passwords checked than the one the lockout still allows: each checked
    wrong password is one ``user.login_failed`` entry, and one of the burst is the right one."""
    from django.contrib.auth import get_user_model

    from audit.models import AuditEvent

    settings.TATER_LOCKOUT_ACCOUNT_FAILURES = 10
    victim = UserFactory(email="victim@example.com")

    def attempt(i: int, password: str) -> Callable[[], int]:
        def go() -> int:
            client = APIClient(REMOTE_ADDR=f"203.0.113.{i}")
            body = {"email": victim.email, "password": password}
            return client.post("/api/v1/auth/login", body, format="json").status_code

        return go

    assert [attempt(i + 1, f"wrong-{i}")() for i in range(9)] == [401] * 9

    burst = 12
    rendezvous = Rendezvous(burst)
    # Held past the lockout check, where the password is looked at.
    held(monkeypatch, get_user_model(), "check_password", rendezvous)
    calls = [attempt(100 + i, f"guess-{i}") for i in range(burst - 1)] + [attempt(200, PASSWORD)]
    statuses = race(calls, rendezvous)

    failed = AuditEvent.objects.filter(action="user.login_failed").count()
    assert failed <= 10, f"{failed} wrong passwords checked; burst answered {statuses} (the last is the right password)"
    # One request at a time has its password checked.
    assert len(rendezvous.threads) <= 1, (rendezvous.arrived, str(statuses))


# --- SPEC §8: an invitation token is single-use -------------------------------------------


def test_invitation_accepted_twice_at_once_admits_once(monkeypatch: Any) -> None:
    """Guard (passing): two accepts of one link at once: one membership, one refusal."""
    from allauth.account.models import EmailAddress

    from orgs import members
    from orgs.models import OrgMembership

    tenant, owner, (org,) = make_tenant(name="Acme")
    invitee = UserFactory(email="new@example.com", verified=False)  # so it is an invitation
    links: list[str] = []
    added = members.member_add_by_email(
        organization=org, email="new@example.com", role="member", actor=owner, accept_url=lambda t: links.append(t) or t
    )
    assert added.result == "invited"
    EmailAddress.objects.create(user=invitee, email=invitee.email, verified=True, primary=True)
    token = links[0]

    rendezvous = Rendezvous(2)
    held(monkeypatch, members, "inviter_may_still_grant", rendezvous)
    results = race([lambda: members.invitation_accept(token=token, user=invitee)] * 2, rendezvous)

    assert sum(1 for r in results if isinstance(r, Exception)) == 1, results
    assert OrgMembership.objects.filter(organization=org, user=invitee).count() == 1


# --- SPEC §2: rotation ------------------------------------------------------------------------


def test_two_rotations_at_once_leave_one_current_and_one_rotated_out_secret(monkeypatch: Any) -> None:
    """Guard (passing): both rotations succeed one after the other; the later secret is the
    key's, the earlier one is the one rotated-out secret in its grace period, the original
    secret (rotated out twice) is dead, and the key has exactly these two digests."""
    from apikeys import keygen
    from apikeys import services as key_services
    from apikeys.models import ApiKey

    tenant, owner, (org,) = make_tenant(name="Acme")
    key, original = make_key(user=owner, tenant=tenant, org=org)

    rendezvous = Rendezvous(2)
    held(monkeypatch, key_services, "_locked", rendezvous)
    rotate = lambda: key_services.apikey_rotate(api_key=key, actor=owner, grace_period_seconds=3600)  # noqa: E731
    results = race([rotate, rotate], rendezvous)
    assert not any(isinstance(r, Exception) for r in results), results

    row = ApiKey.objects.get(pk=key.pk)
    secrets = {keygen.digest_of(r.key): r.key for r in results}
    assert set(secrets) == {row.digest, row.previous_digest}
    api = APIClient()
    assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=original).status_code == 401
    for raw in secrets.values():
        assert api.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code == 200


# --- SPEC §8: a domain is verified by one tenant at most ------------------------------------


def test_two_tenants_verifying_one_domain_at_once_one_wins(monkeypatch: Any) -> None:
    """Guard (passing): both tenants publish their TXT record (the DNS answer carries both);
    both press Verify at once: one verifies, the other is refused."""
    from accounts import domains
    from accounts.models import TenantDomain

    claims = []
    for name in ("Acme", "Globex"):
        tenant, owner, _ = make_tenant(name=name)
        claims.append((domains.domain_add(tenant=tenant, actor=owner, domain="contested.test"), owner))
    published = [claim.record_value for claim, _ in claims]

    rendezvous = Rendezvous(2)

    def txt_records(name: str) -> list[str]:
        rendezvous.hold()  # both have passed the "taken by another tenant" check
        return published

    monkeypatch.setattr(domains, "txt_records", txt_records)
    results = race(
        [lambda c=claim, o=owner: domains.domain_verify(tenant_domain=c, actor=o) for claim, owner in claims],
        rendezvous,
    )

    assert TenantDomain.objects.filter(domain="contested.test", verified_at__isnull=False).count() == 1
    assert sum(1 for r in results if isinstance(r, domains.DomainVerificationFailed)) == 1, results
