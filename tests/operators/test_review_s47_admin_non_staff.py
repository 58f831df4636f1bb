"""SPEC §10 (the Django admin is the operators', behind 2FA): a signed-in account that is not
an operator (a tenant's owner, say, following a link or typing /admin/) gets a clear refusal.
Found by review K (s47): the admin sent it to the sign-in page, which sends a signed-in
account back to where it came from, the admin, which sent it to the sign-in page again: the
browser gave up with "too many redirects" and the person never learnt why."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory, make_key, make_tenant

pytestmark = pytest.mark.django_db


def follow(client: Client, url: str, hops: int = 10) -> tuple[Any, list[str]]:
    """The answer at the end of ``url``'s redirects (at most ``hops`` of them), and the way."""
    way = [url]
    for _ in range(hops):
        response = client.get(url)
        if response.status_code not in (301, 302, 303, 307, 308):
            return response, way
        url = response["Location"]
        way.append(url)
    raise AssertionError(f"still redirecting after {hops} hops: {way}")


@pytest.mark.parametrize("page", ["/admin/", "/admin/apikeys/apikey/", "/admin/orgs/tenant/"])
def test_a_signed_in_account_that_is_not_an_operator_is_told_it_has_no_access(page: str) -> None:
    tenant, owner, (org,) = make_tenant()
    api_key, _ = make_key(user=owner, tenant=tenant, org=org)
    client = Client()
    client.force_login(owner)
    response, way = follow(client, page)
    assert response.status_code == 403, way
    text = response.content.decode()
    assert "admin" in text.lower() and "operator" in text.lower()
    assert api_key.display_prefix not in text and tenant.public_id not in text


def test_guard_nobody_signed_in_still_goes_to_the_sign_in_page() -> None:
    response, way = follow(Client(), "/admin/")
    assert response.status_code == 200 and way[-1].startswith("/accounts/login/")


def test_guard_an_operator_without_a_second_factor_still_goes_to_the_2fa_step() -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/verify/")
