"""Review s39: the key list took a filter it cannot apply (a search over 100 characters, a
status or type it does not know, e.g. from an old bookmark or a hand-edited address) as no
filter at all: it listed every key, 200, with no word that the search was dropped, so a
search looked as if everything matched it. The Activity Log and the Scans page show such
filters' errors; the key list now does too (400, the error on the field it names, no table)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import make_key, make_tenant

pytestmark = pytest.mark.django_db


def _page(client: Client, query: str) -> tuple[int, str]:
    response = client.get(f"/keys/?{query}")
    return response.status_code, response.content.decode()


@pytest.fixture
def owner() -> Any:
    tenant, owner, (org,) = make_tenant(name="Acme")
    make_key(user=owner, tenant=tenant, org=org, name="alpha-sync")
    make_key(user=owner, tenant=tenant, org=org, name="beta-sync")
    return owner


@pytest.mark.parametrize(
    ("query", "label"),
    [("q=" + "alpha" * 21, "Search"), ("status=disabled", "Status"), ("type=secret", "Type"), ("sort=cost", "Sort by")],
)
def test_a_filter_the_list_cannot_apply_is_an_error_not_every_key(owner: Any, query: str, label: str) -> None:
    client = Client()
    client.force_login(owner)
    status, html = _page(client, query)
    assert status == 400, html[:1000]
    assert f">{label}</a>:" in html, html[:4000]  # the summary links to the field it names
    assert 'aria-invalid="true"' in html
    assert "alpha-sync" not in html and "beta-sync" not in html
    assert "No keys match" not in html
    assert ">Clear filters</a>" in html


def test_valid_filters_still_list(owner: Any) -> None:
    client = Client()
    client.force_login(owner)
    status, html = _page(client, "q=alpha&status=active&sort=name")
    assert status == 200
    assert "alpha-sync" in html and "beta-sync" not in html
    status, html = _page(client, "")
    assert status == 200 and "alpha-sync" in html and "beta-sync" in html
