"""The org list is paged like every list (SPEC §12; README "Decisions on lists"): the client's
``organizations.list`` takes ``limit``/``offset``, ``organizations.iter`` walks every page, and
``tater orgs list`` says how to see more (or ``--all``), so a tenant of more than one page is
never silently cut to its first 50 orgs."""

from __future__ import annotations

import json
from typing import Any

from tater_client.cli import main

from orgs import services as org_services
from tests.factories import make_key


def test_the_org_list_pages_and_iter_reads_every_page(acme: Any, connect: Any, capsys: Any, monkeypatch: Any) -> None:
    for n in range(3):
        org_services.org_create(tenant=acme.tenant, name=f"Branch {n}", actor=acme.owner)
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    client = connect(unbound)

    page = client.organizations.list(limit=2, offset=1)
    assert (page.total, page.limit, page.offset, len(page.organizations)) == (5, 2, 1, 2)
    every = list(client.organizations.iter(page_size=2))
    assert len(every) == 5 and len({o.id for o in every}) == 5

    monkeypatch.setenv("TATER_API_KEY", unbound)
    args = ["--url", acme.url]
    assert main([*args, "orgs", "list", "--limit", "2"]) == 0
    out = capsys.readouterr()
    assert "2 of 5 organizations shown: --offset 2 for more" in out.err
    assert main([*args, "--json", "orgs", "list", "--all"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 5
