"""Review s39: "Remove" of a claimed SSO domain posted twice (a double click, a reload
answering "resend the form", or a settings page opened before another owner removed it)
answered the 404 page "No such domain" although the first press had worked. Now a domain
this tenant removed goes back to the SSO settings saying it was already removed, and nothing
changes; the id of another tenant's claim (removed or not) is still a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import domains
from audit.models import AuditEvent
from orgs import services as org_services
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response: Any) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_remove_posted_twice_ends_on_the_sso_settings() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    claim = domains.domain_add(tenant=tenant, actor=owner, domain="acme.test")
    browser = _browser(owner)
    url = f"/accounts/sso/domains/{claim.pk}/remove/"
    assert browser.post(url).status_code == 302
    entries = AuditEvent.objects.count()

    again = browser.post(url, follow=True)
    assert again.status_code == 200, again.content.decode()[:500]
    assert again.redirect_chain[-1][0] == f"/accounts/sso/?tenant={tenant.public_id}"
    assert "acme.test was already removed" in _messages(again)
    assert AuditEvent.objects.count() == entries

    # The confirmation page of a stale settings page (a GET) says so too.
    stale = browser.get(url, follow=True)
    assert stale.status_code == 200 and "acme.test was already removed" in _messages(stale)


def test_another_tenants_claim_is_still_not_found() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    foreign_tenant, foreign_owner, _ = make_tenant(name="Globex")
    removed = domains.domain_add(tenant=foreign_tenant, actor=foreign_owner, domain="globex.test")
    domains.domain_remove(tenant_domain=removed, actor=foreign_owner)
    kept = domains.domain_add(tenant=foreign_tenant, actor=foreign_owner, domain="globex.example")
    browser = _browser(owner)
    for claim_id in (removed.pk, kept.pk, 999999):
        assert browser.post(f"/accounts/sso/domains/{claim_id}/remove/").status_code == 404
        assert browser.get(f"/accounts/sso/domains/{claim_id}/remove/").status_code == 404


def test_an_owner_no_longer_owner_gets_404_for_a_removed_claim() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    claim = domains.domain_add(tenant=tenant, actor=owner, domain="acme.test")
    former = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=former, role="owner", actor=owner)
    domains.domain_remove(tenant_domain=claim, actor=owner)
    org_services.tenant_member_set(tenant=tenant, user=former, role=None, actor=owner)
    assert _browser(former).post(f"/accounts/sso/domains/{claim.pk}/remove/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_removal_that_fails_leaves_no_entry_saying_it_happened(monkeypatch: Any) -> None:
    # SPEC §7: the entry is written in the change's transaction; a removal that fails after
    # its entry was written leaves the claim and no "removed" entry (so no "already removed").
    tenant, owner, _ = make_tenant(name="Acme")
    claim = domains.domain_add(tenant=tenant, actor=owner, domain="acme.test")

    def failing_delete(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(type(claim), "delete", failing_delete)
    with pytest.raises(RuntimeError):
        domains.domain_remove(tenant_domain=claim, actor=owner)
    assert not AuditEvent.objects.filter(action="sso.domain_removed").exists()
