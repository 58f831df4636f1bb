"""Review s38: an owner of two tenants works on the second tenant's SCIM page (opened from that
tenant's settings, which name its org) while the session's current org is in the first tenant.
Mapping a group there was impossible (its form did not name the org: 404 "No such group"), and
revoking a token acted on the second tenant but answered with the first tenant's SCIM page, whose
list does not have the token the message named. The group form now names the page's org like
the token form, and both answers stay on the SCIM page of the tenant acted in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from scim.models import ScimGroup
from scim.services import tokens as token_services
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def two() -> dict[str, Any]:
    _, owner, (acme_org,) = make_tenant(name="Acme")
    initech, _, (initech_org,) = make_tenant(name="Initech", owner=owner)
    browser = Client()
    browser.force_login(owner)
    browser.post("/orgs/switch/", {"org": acme_org.public_id})  # the session works in Acme
    hint = f"?organizationId={initech_org.public_id}"
    return {"owner": owner, "tenant": initech, "org": initech_org, "browser": browser, "hint": hint}


def _lands_on_initech(answer: Any, two: dict[str, Any]) -> None:
    assert answer.status_code == 200, answer.content.decode()[:1000]
    assert answer.redirect_chain and answer.redirect_chain[-1][0].startswith("/settings/tenant/scim/")
    assert answer.context["tenant"] == two["tenant"]


def test_revoking_a_token_goes_back_to_that_tenants_page(two: dict[str, Any]) -> None:
    issued = token_services.scim_token_create(tenant=two["tenant"], name="Okta", actor=two["owner"])
    url = f"/settings/tenant/scim/tokens/{issued.token.public_id}/revoke/{two['hint']}"
    assert two["browser"].get(url).status_code == 200
    _lands_on_initech(two["browser"].post(url, follow=True), two)


def test_mapping_a_group_goes_back_to_that_tenants_page(two: dict[str, Any]) -> None:
    group = ScimGroup.objects.create(tenant=two["tenant"], display_name="Engineering", display_name_key="engineering")
    page = two["browser"].get(f"/settings/tenant/scim/{two['hint']}").content.decode()
    assert "Engineering" in page
    prefix = group.public_id
    answer = two["browser"].post(
        f"/settings/tenant/scim/groups/{group.public_id}/map/{two['hint']}",
        {f"{prefix}-organization": two["org"].public_id, f"{prefix}-role": "viewer"},
        follow=True,
    )
    _lands_on_initech(answer, two)
    assert ScimGroup.objects.get(pk=group.pk).organization == two["org"]


def test_the_group_form_on_that_page_maps_the_group(two: dict[str, Any]) -> None:
    """The group form of a page opened for the second tenant posted without naming it: the
    session's tenant (the first) answered 404 "No such group", so no group could be mapped from
    that page at all. It now names the page's org, like the token form beside it."""
    group = ScimGroup.objects.create(tenant=two["tenant"], display_name="Engineering", display_name_key="engineering")
    page = two["browser"].get(f"/settings/tenant/scim/{two['hint']}").content.decode()
    action = f"/settings/tenant/scim/groups/{group.public_id}/map/{two['hint']}"
    assert f'action="{action}"' in page
    prefix = group.public_id
    answer = two["browser"].post(action, {f"{prefix}-organization": two["org"].public_id, f"{prefix}-role": "viewer"})
    assert answer.status_code == 302
    assert ScimGroup.objects.get(pk=group.pk).organization == two["org"]
