"""The security page prompts to turn on 2FA while it is off, and lists sessions in plain
words (browser and system, one date format)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.accounts.conftest import enrol
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def _page(user: Any) -> str:
    client = Client(HTTP_USER_AGENT=CHROME_UA)
    client.force_login(user)
    return client.get("/accounts/security/").content.decode()


def test_prompt_to_enable_2fa_only_while_it_is_off(clock: Any) -> None:
    user = UserFactory()
    assert "Set up two-factor authentication" in _page(user)
    enrol(user, clock.now)
    assert "Set up two-factor authentication" not in _page(user)


def test_sessions_in_plain_words() -> None:
    user = UserFactory()
    client = Client(HTTP_USER_AGENT=CHROME_UA)
    assert client.post("/accounts/login/", {"login": user.email, "password": PASSWORD}).status_code == 302
    page = client.get("/accounts/security/").content.decode()
    assert "Chrome 124 on Windows" in page and "(this session)" in page
    # The raw user agent only as the title (hover), never as the text.
    assert page.count(CHROME_UA) == 1 and f'title="{CHROME_UA}"' in page
