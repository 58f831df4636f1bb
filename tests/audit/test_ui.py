"""The Activity Log page (/activity/) and its CSV export."""

from __future__ import annotations

import csv
import io
import re

import pytest

from audit.models import AuditEvent
from orgs import services as org_services

pytestmark = pytest.mark.django_db
PAGE = "/activity/"
EXPORT = "/activity/export.csv"
# Action codes wrap only after "." or "_" (tests/ui/test_activity_and_format.py).
UPDATED = '<code class="action-code">organization.<wbr>updated</code>'


def test_sign_in_required(client, world):
    r = client.get(PAGE)
    assert r.status_code == 302
    assert "/accounts/login/" in r["Location"]
    assert client.get(EXPORT).status_code == 302


def test_viewer_gets_403(client, world):
    client.force_login(world["viewer"])
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_lists_the_orgs_entries_with_labelled_filters(client, world):
    org_services.org_rename(organization=world["org1"], name="Shown <b>escaped</b>", actor=world["owner"])
    client.force_login(world["admin"])
    r = client.get(PAGE)
    assert r.status_code == 200
    html = r.content.decode()
    for field in ("channel", "action", "actor", "key", "since", "until"):
        assert re.search(rf'<label for="id_{field}">', html), field
    assert "organization.updated" in html
    assert "Shown &lt;b&gt;escaped&lt;/b&gt;" in html
    assert 'href="/activity/export.csv"' in html
    # org2's entries are not in org1's log.
    assert world["org2"].name not in html


def test_filters_narrow_the_list_and_the_export_link_keeps_them(client, world):
    org_services.org_rename(organization=world["org1"], name="Renamed once", actor=world["owner"])
    client.force_login(world["admin"])
    r = client.get(PAGE, {"action": "organization.updated", "actor": world["owner"].email})
    html = r.content.decode()
    assert html.count(UPDATED) == 1
    assert "api_<wbr>key.<wbr>created" not in html
    assert (
        f'href="/activity/export.csv?action=organization.updated&amp;actor={world["owner"].email.replace("@", "%40")}"'
        in html
    )


def test_bad_filter_is_shown_on_the_form(client, world):
    client.force_login(world["admin"])
    r = client.get(PAGE, {"since": "last tuesday"})
    assert r.status_code == 200
    assert "Enter a date such as 2026-01-31." in r.content.decode()
    assert client.get(EXPORT, {"since": "last tuesday"}).status_code == 302


def test_paging_with_older_entries_link(client, world):
    for i in range(55):
        org_services.org_rename(organization=world["org1"], name=f"Name {i}", actor=world["owner"])
    client.force_login(world["admin"])
    first = client.get(PAGE, {"action": "organization.updated"}).content.decode()
    assert first.count(UPDATED) == 50
    cursor = re.search(r'cursor=([^"&]+)" rel="next"', first)[1]
    second = client.get(f"{PAGE}?action=organization.updated&cursor={cursor}").content.decode()
    assert second.count(UPDATED) == 5
    assert 'rel="next"' not in second
    assert "Newest entries" in second


def test_export_streams_csv(client, world):
    client.force_login(world["admin"])
    r = client.get(EXPORT, {"channel": "system"})
    assert r.status_code == 200
    assert r.streaming
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    assert len(rows) == AuditEvent.objects.filter(organization=world["org1"], channel="system").count()
    assert {row["channel"] for row in rows} == {"system"}


def test_action_groups_read_as_words(client, world):
    client.force_login(world["admin"])
    html = client.get(PAGE).content.decode()
    for label in ("Any API key action", "Any MFA action", "Any SCIM user action", "Any SSO action"):
        assert f">{label}</option>" in html, label
