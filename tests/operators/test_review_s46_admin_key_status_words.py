"""Review s46 (SPEC §10: the admin lists keys; README "The web app": one word for a switched-off
key, *Deactivated* in the UI while the API's status value stays ``inactive``): the admin's key
list offered the filter "Inactive" and its status column said "inactive" for a key that the
owner's pages call Deactivated, so an operator helping a customer ("my key is deactivated")
looked for a word the admin did not use. The filter now says "Deactivated" (its query value stays
``status=inactive``) and the column shows each status in the UI's words."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from apikeys.models import ApiKey
from tests.factories import make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db
LIST = "/admin/apikeys/apikey/"


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def row_of(body: str, name: str) -> str:
    rows = [text(r) for r in re.findall(r"<tr\b.*?</tr>", body, flags=re.DOTALL) if f">{name}<" in r]
    assert len(rows) == 1, (name, rows)
    return rows[0]


def filter_choices(body: str) -> dict[str, str]:
    """The status filter's choices: link text -> its query string."""
    block = re.search(r"By status.*?</ul>", body, flags=re.DOTALL)
    assert block is not None, body
    return {text(label): href for href, label in re.findall(r'<a\b[^>]*href="([^"]*)"[^>]*>(.*?)</a>', block.group(0))}


@pytest.fixture
def keys() -> dict[str, ApiKey]:
    tenant, owner, (org,) = make_tenant(name="Acme")
    made = {name: make_key(user=owner, tenant=tenant, org=org, name=name)[0] for name in ("on", "off", "gone", "old")}
    ApiKey.objects.filter(pk=made["off"].pk).update(is_active=False)
    ApiKey.objects.filter(pk=made["gone"].pk).update(revoked_at=timezone.now())
    ApiKey.objects.filter(pk=made["old"].pk).update(expires_at=timezone.now() - timedelta(days=1))
    return made


def test_the_status_filter_says_deactivated_and_still_filters_on_inactive(keys: dict[str, ApiKey]) -> None:
    admin = superuser_in_admin()

    choices = filter_choices(admin.get(LIST).content.decode())
    assert "Inactive" not in choices
    assert "status=inactive" in html.unescape(choices["Deactivated"])

    body = admin.get(LIST, {"status": "inactive"}).content.decode()
    assert row_of(body, "off")
    assert all(f">{name}<" not in body for name in ("on", "gone", "old"))


def test_the_status_column_uses_the_ui_words(keys: dict[str, ApiKey]) -> None:
    body = superuser_in_admin().get(LIST).content.decode()

    assert "Deactivated" in row_of(body, "off")
    assert "inactive" not in row_of(body, "off").lower()
    assert "Active" in row_of(body, "on")
    assert "Revoked" in row_of(body, "gone")
    assert "Expired" in row_of(body, "old")
