"""On a deployment with its own key prefixes (SPEC §2: TATER_KEY_PREFIX_STANDARD=taapit_
and so on), the in-app API reference describes and shows the keys this deployment issues,
not the default tater_/ak_/ck_ ones."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

PREFIXES = {"standard": "taapit_", "agent": "tagent_", "public": "tpub_"}


@override_settings(TATER_KEY_PREFIXES=PREFIXES)
def test_api_reference_names_the_configured_prefixes(world: dict[str, Any], client_for: Any) -> None:
    page = html.unescape(client_for(world["owner"]).get("/docs/api/").content.decode())
    assert "X-API-Key: taapit_<32-hex-chars>" in page
    for prefix in PREFIXES.values():
        assert f"<code>{prefix}</code>" in page
    # The example key and the snippets use the standard prefix of this deployment.
    assert 'X-API-Key: taapit_3fd88c926edd3a6f66a925de7df4cfe4"' in page
    assert "$apiKey = 'taapit_3fd88c926edd3a6f66a925de7df4cfe4'" in page
    for default in ("tater_", "ak_", "ck_"):
        assert f"<code>{default}</code>" not in page
    assert "tater_3fd88c926edd3a6f66a925de7df4cfe4" not in page
