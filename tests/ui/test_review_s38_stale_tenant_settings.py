"""Review s38: the tenant settings page posts every setting it shows (plan, 2FA policy, who may
create keys, maximum key lifetime, token exchange). A page opened before another owner (or the
same owner in another tab) tightened a policy put the old, looser value back when it was saved
for an unrelated change, e.g. a plan change silently lifted the key lifetime cap and let every
member create keys again. A save now changes only the settings changed on that page."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from orgs import services as org_services
from orgs.models import Tenant
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """What a browser submits from the page's form posting to ``action_start`` (``""``: the
    POST form without an action, which posts to the page's own address)."""

    def __init__(self, html: str, action_start: str) -> None:
        super().__init__()
        self.action_start = action_start
        self.action = ""
        self.inside = False
        self.select: str | None = None
        self.data: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method") == "post":
            action = a.get("action", "")
            if action.startswith(self.action_start) and (self.action_start or not action):
                self.inside, self.action = True, action
        if not self.inside or not a.get("name") and tag != "option":
            return
        if tag == "input" and (a.get("type") != "checkbox" or "checked" in a):
            self.data[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select":
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def _browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_old_settings_page_saved_for_the_plan_does_not_undo_a_newer_policy() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    co_owner = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    tab = _browser(owner)
    page = tab.get("/settings/tenant/")
    form = _Form(page.content.decode(), "/settings/tenant/")
    assert form.data["plan"] == "free" and form.data["key_creation_policy"] == "members"

    # Meanwhile the other owner tightens the key policies.
    org_services.tenant_update(tenant=tenant, actor=co_owner, key_creation_policy="owners", max_key_lifetime_days=90)

    # The first owner, on the page opened earlier, only moves the tenant to the pro plan.
    answer = tab.post(form.action, {**form.data, "plan": "pro"})
    assert answer.status_code == 302, answer.content.decode()[:2000]

    tenant = Tenant.objects.get(pk=tenant.pk)
    assert tenant.plan == "pro"
    assert tenant.key_creation_policy == "owners"  # was put back to "members"
    assert tenant.max_key_lifetime_days == 90  # was lifted (empty on the old page)
    last = AuditEvent.objects.filter(action="tenant.updated").order_by("-pk").first()
    assert last is not None and set(last.changes) == {"plan"}


def test_a_refused_save_keeps_what_was_typed_and_still_changes_only_that() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    tab = _browser(owner)
    form = _Form(tab.get("/settings/tenant/").content.decode(), "/settings/tenant/")
    refused = tab.post(form.action, {**form.data, "plan": "pro", "max_key_lifetime_days": "0"})
    assert refused.status_code == 400
    body = refused.content.decode()
    again = _Form(body, "/settings/tenant/")
    assert again.data["plan"] == "pro" and again.data["max_key_lifetime_days"] == "0"

    org_services.tenant_update(tenant=tenant, actor=owner, key_creation_policy="admins")
    fixed = tab.post(again.action, {**again.data, "max_key_lifetime_days": ""})
    assert fixed.status_code == 302
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.plan, tenant.key_creation_policy) == ("pro", "admins")


def test_a_refused_post_without_the_shown_values_still_saves_what_was_typed() -> None:
    """A POST that did not come from the page (no shown values: a script, a page from before)
    behaves as before, and the page it gets back does not take the typed values for shown ones."""
    tenant, owner, _ = make_tenant(name="Acme")
    tab = _browser(owner)
    data = {"plan": "pro", "key_creation_policy": "admins", "token_exchange_policy": "owners"}
    refused = tab.post("/settings/tenant/", {**data, "max_key_lifetime_days": "0"})
    assert refused.status_code == 400
    again = _Form(refused.content.decode(), "/settings/tenant/")
    assert again.data["initial-plan"] == "free" and again.data["plan"] == "pro"
    assert tab.post(again.action, {**again.data, "max_key_lifetime_days": "30"}).status_code == 302
    tenant = Tenant.objects.get(pk=tenant.pk)
    assert (tenant.plan, tenant.key_creation_policy, tenant.max_key_lifetime_days) == ("pro", "admins", 30)
    assert tab.post("/settings/tenant/", {**data, "plan": "enterprise"}).status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).plan == "enterprise"
