"""SPEC §7 CSV export: names of keys and orgs and clients' user agents are user-controlled, so
no exported cell may be run as a formula by a spreadsheet. The well-known bypasses of a guard
that reads only the first character: whitespace before the formula sign (spreadsheets skip it
when they parse a cell) and the full-width signs (U+FF1D ＝ and friends), which Excel's East
Asian locales read as their ASCII forms."""

from __future__ import annotations

import csv
import io

import pytest

from orgs import services as org_services

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit-log/"


def exported(api, world, action: str) -> dict[str, str]:
    r = api.get(URL, {"format": "csv", "action": action}, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    return rows[0]


@pytest.mark.parametrize(
    "name",
    ["\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)"],
    ids=["fullwidth-equals", "fullwidth-plus", "fullwidth-minus", "fullwidth-at"],
)
def test_full_width_formula_sign_in_a_name_is_neutralised(api, world, name):
    org_services.org_rename(organization=world["org1"], name=name, actor=world["owner"])
    cell = exported(api, world, "organization.updated")["target_display"]
    assert cell == "'" + name


@pytest.mark.parametrize(
    "agent",
    [" =1+1", "  +cmd|' /C calc'!A0", "\u3000@SUM(A1)", " \uff1d1"],
    ids=["space-equals", "spaces-plus", "ideographic-space-at", "space-fullwidth-equals"],
)
def test_formula_after_whitespace_in_a_user_agent_is_neutralised(api, world, agent):
    r = api.patch(
        f"/api/v1/keys/{world['owner_key'].public_id}/",
        {"name": "renamed"},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
        HTTP_USER_AGENT=agent,
    )
    assert r.status_code == 200, r.content
    cell = exported(api, world, "api_key.updated")["user_agent"]
    assert cell.startswith("'"), cell
    assert cell[1:].strip() == agent.strip()  # nothing else of the agent is lost


@pytest.mark.parametrize(
    "name", ["Acme", "a=b", "Org -1", "\uff21cme"], ids=["plain", "inner-equals", "inner-minus", "fullwidth-letter"]
)
def test_ordinary_names_are_exported_as_they_are(api, world, name):
    org_services.org_rename(organization=world["org1"], name=name, actor=world["owner"])
    assert exported(api, world, "organization.updated")["target_display"] == name
