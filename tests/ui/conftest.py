from __future__ import annotations

from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def client_for() -> Any:
    """A signed-in Django test client for a user (CSRF checks on, like a browser)."""

    def make(user: Any, *, enforce_csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(user)
        return client

    return make
