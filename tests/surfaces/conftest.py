"""Helpers for the seed systems' surfaces (SPEC §5a)."""

from __future__ import annotations

from typing import Any

from tests.accounts.conftest import clock  # noqa: F401 (the fixture, for 2FA tests here)


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def json_of(response: Any, status: int) -> Any:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()
