"""Review s43: on the account pages (sign-up, sign-in, two-factor set-up and challenge) each
input named its help text with aria-describedby="id_…_helptext", but the help text carried no
such id: a screen reader announced "Password" without the password rules under it, or
"Verification code" without saying a recovery code works too. Every aria-describedby on those
pages now names an element of the page, as on the app's other forms (SPEC §9)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _dangling(html: str) -> list[str]:
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    named = [ref for refs in re.findall(r'aria-describedby="([^"]+)"', html) for ref in refs.split()]
    return [ref for ref in named if ref not in ids]


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/login/"])
def test_account_pages_describe_inputs_with_elements_they_have(path: str) -> None:
    page = Client().get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "aria-describedby" in html
    assert _dangling(html) == []


def test_signup_errors_keep_the_help_linked() -> None:
    page = Client().post("/accounts/signup/", {"email": "new@example.org", "password1": "x", "password2": "x"})
    html = page.content.decode()
    assert "too short" in html
    assert _dangling(html) == []
