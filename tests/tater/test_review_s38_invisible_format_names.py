"""Session 38 review: the other invisible characters in names (today's "names show what they
say": a key, organization or tenant name with an invisible character is a 400 on the name).

The list refused zero-width space, word joiner, BOM and a few fillers, but not the other
characters that show as nothing: a soft hyphen (``pr\\u00adod`` reads ``prod`` in every list),
the invisible separator/times/plus (U+2061-2064), the combining grapheme joiner (U+034F) or a
tag character (U+E0041: "ASCII smuggling"). A key named so looked exactly like the team's real
``prod`` key. Now every format character is refused, except the joiners (emoji sequences,
Persian) and the tags of an emoji flag sequence (England's flag). [was failing; fixed]
"""

from __future__ import annotations

from typing import Any

import pytest

from apikeys.models import ApiKey

pytestmark = pytest.mark.django_db

LOOKALIKES = ["pr\u00adod", "prod\u00ad", "pro\u2063d", "pro\u2062d", "pr\u034fod", "prod\U000e0041\U000e0042"]
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


def _keys(world: dict[str, Any]) -> str:
    return f"/api/v1/keys/?organizationId={world['org1'].public_id}"


@pytest.mark.parametrize("name", LOOKALIKES, ids=ascii)
def test_a_key_name_with_an_invisible_character_is_refused(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_login(world["owner"])
    before = ApiKey.objects.count()
    r = api.post(_keys(world), {"name": name, "scopes": ["keys:read"]}, format="json")
    assert r.status_code == 400, r.json()
    assert list(r.json()["details"]["fields"]) == ["name"] and "invisible" in r.json()["details"]["fields"]["name"][0]
    assert ApiKey.objects.count() == before


@pytest.mark.parametrize("name", ["Acme\u00ad", "Ac\u2064me"], ids=ascii)
def test_an_organization_name_too(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_login(world["owner"])
    r = api.post("/api/v1/organizations/", {"name": name}, format="json")
    assert (r.status_code, list(r.json().get("details", {}).get("fields", {}))) == (400, ["name"]), r.json()


@pytest.mark.parametrize("name", [f"{ENGLAND} team", "\U0001f1ec\U0001f1e7 UK", "\u0600\u0661\u0662"], ids=ascii)
def test_flags_and_visible_format_marks_stay(api: Any, world: dict[str, Any], name: str) -> None:
    api.force_login(world["owner"])
    r = api.post(_keys(world), {"name": name, "scopes": ["keys:read"]}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["name"] == name
