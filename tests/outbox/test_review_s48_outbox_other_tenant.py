"""README (mail without EMAIL_HOST: "tenant owners read it under Tenant → Outbox,
/settings/tenant/outbox/"): an owner of one tenant who also works in another tenant's org, with
that org chosen in the switcher, opened the Outbox (the README's path, a bookmark) and got a bare
403 "This page is for tenant administrators", though they own a tenant whose mail is kept there.
The page now says whose Outbox it would be and links to the Outbox of each tenant they own (the
message they opened, for a message page); another tenant's mail stays out of sight, and a person
who owns no tenant still gets the plain 403."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client

from outbox.models import OutboxMessage
from tests.factories import add_member

pytestmark = pytest.mark.django_db
OUTBOX = "/settings/tenant/outbox/"


def _owner_working_in_globex(world: dict[str, Any]) -> Client:
    add_member(world["other_org"], "member", user=world["owner"])
    browser = Client()
    browser.force_login(world["owner"])
    session = browser.session
    session["current_org_id"] = world["other_org"].public_id
    session.save()
    return browser


def _links(page: Any) -> list[str]:
    import re

    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', page.content.decode())]


def test_the_list_links_to_the_outbox_of_the_tenant_they_own(world):
    mine = OutboxMessage.objects.create(tenant=world["tenant"], to=["x@acme.test"], subject="Acme invitation", body="b")
    OutboxMessage.objects.create(tenant=world["other_tenant"], to=["y@globex.test"], subject="Globex secret", body="b")
    browser = _owner_working_in_globex(world)
    page = browser.get(OUTBOX)
    assert page.status_code == 403
    text = page.content.decode()
    assert "Globex secret" not in text and "Acme invitation" not in text
    assert world["other_tenant"].name in text and world["tenant"].name in text
    targets = [link for link in _links(page) if link.startswith(OUTBOX)]
    assert targets, text
    opened = browser.get(targets[0])
    assert opened.status_code == 200
    assert mine.subject in opened.content.decode() and "Globex secret" not in opened.content.decode()


def test_a_message_page_links_to_that_message_in_its_tenant(world):
    mine = OutboxMessage.objects.create(tenant=world["tenant"], to=["x@acme.test"], subject="Acme invitation", body="b")
    browser = _owner_working_in_globex(world)
    page = browser.get(f"{OUTBOX}{mine.public_id}/")
    assert page.status_code == 403
    targets = [link for link in _links(page) if link.startswith(f"{OUTBOX}{mine.public_id}/")]
    assert targets, page.content.decode()
    assert browser.get(targets[0]).status_code == 200


def test_someone_who_owns_no_tenant_gets_the_plain_refusal(world):
    globex_mail = OutboxMessage.objects.create(tenant=world["other_tenant"], to=["y@x.test"], subject="Globex", body="")
    browser = Client()
    browser.force_login(world["member"])
    page = browser.get(OUTBOX)
    assert page.status_code == 403
    assert not [link for link in _links(page) if link.startswith(OUTBOX)]
    assert browser.get(f"{OUTBOX}{globex_mail.public_id}/").status_code in (403, 404)
