"""An account's additional address reaches the account in any spelling SPEC §8 makes equal,
including the ASCII (IDNA) form of its domain: typed exactly as stored, or as the other form,
it signs in on the form and the JSON login alike."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def html(email: str) -> Any:
    return Client().post("/accounts/login/", {"login": email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.5")


def api(email: str) -> Any:
    return APIClient().post(
        "/api/v1/auth/login", {"email": email, "password": PASSWORD}, format="json", REMOTE_ADDR="192.0.2.6"
    )


@pytest.mark.parametrize("stored", ["ada@xn--bcher-kva.test", "ada@bücher.test"])
@pytest.mark.parametrize("typed", ["ada@xn--bcher-kva.test", "ADA@BÜCHER.test", "ada@bücher.test"])
def test_an_idna_domain_address_signs_in_in_either_form(stored: str, typed: str) -> None:
    user = UserFactory(email="ada@home.test")
    EmailAddress.objects.create(user=user, email=stored, verified=True, primary=False)
    assert html(typed).status_code == 302
    r = api(typed)
    assert r.status_code == 200, r.content
