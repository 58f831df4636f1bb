"""The API reference page (/docs/api/) and the interactive docs (/api/docs/)."""

from __future__ import annotations

import html
import re

import pytest

from orgs.access import SESSION_ORG_KEY
from tater.api.catalog import ERROR_CATALOG
from tests.browser import chromium, needs_chromium


@pytest.mark.django_db
class TestApiReference:
    def test_login_required(self, client):
        r = client.get("/docs/api/")
        assert r.status_code == 302 and "/accounts/login/" in r["Location"]

    def test_snippets_carry_the_users_ids(self, client, world):
        client.force_login(world["member"])
        r = client.get("/docs/api/")
        assert r.status_code == 200
        page = html.unescape(r.content.decode())
        tenant, org = world["tenant"].public_id, world["org1"].public_id
        assert f"http://testserver/api/scans/upload?tenantId={tenant}&organizationId={org}" in page
        assert f"tenant_id = '{tenant}'" in page and f"$orgId = '{org}'" in page
        assert "params  = {'tenantId': tenant_id, 'organizationId': org_id}" in page
        # The catalog table is generated from ERROR_CATALOG: one row per entry.
        table = re.search(r'<table id="error-catalog">(.*?)</table>', page, re.S).group(1)
        assert table.count("<tr>") == len(ERROR_CATALOG) + 1
        for entry in ERROR_CATALOG:
            assert entry.code in table and entry.message in table
        assert world["other_tenant"].public_id not in page

    def test_org_choice_follows_the_switcher(self, client, world):
        client.force_login(world["owner"])
        session = client.session
        session[SESSION_ORG_KEY] = world["org2"].public_id
        session.save()
        page = html.unescape(client.get("/docs/api/").content.decode())
        assert f"organizationId={world['org2'].public_id}" in page
        page = html.unescape(client.get("/docs/api/", {"organizationId": world["org1"].public_id}).content.decode())
        assert f"organizationId={world['org1'].public_id}" in page

    def test_foreign_org_hint_is_404(self, client, world):
        client.force_login(world["member"])
        assert client.get("/docs/api/", {"organizationId": world["other_org"].public_id}).status_code == 404


@pytest.mark.browser
@needs_chromium
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_under_the_csp(live_server):
    problems: list[str] = []
    external: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("request", lambda req: external.append(req.url) if not req.url.startswith(live_server.url) else None)
        page.goto(f"{live_server.url}/api/docs/")
        page.wait_for_selector(".opblock-summary-path", timeout=20_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/scans/upload" in p for p in paths)
    assert not [m for m in problems if "Content Security Policy" in m], problems
    assert [u for u in external if not u.startswith("data:")] == []
