"""Review s46 (SPEC §5, §9; README "Endpoints"): the in-app API reference (/docs/api/) is the
page an integrator reads first. Its endpoint table must list every endpoint of the README's
"Endpoints" table, with the same methods and scopes, and say which lists page with
``limit``/``offset``. Found by review: the invitation endpoints added in s46 (resend,
withdraw), the SCIM token endpoints, ``auth/token``, ``keys/{id}/usage/`` and others were
missing, and nothing said that ``GET organizations/`` and ``GET scim-tokens/`` now page."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
METHODS = r"(?:GET|POST|PATCH|DELETE)"


@dataclass(frozen=True)
class Entry:
    methods: tuple[str, ...]
    path: str
    # "…/members/{user_id}/" or a bare "deactivate/" continue the entry before them.
    partial: bool


@dataclass(frozen=True)
class Row:
    entries: tuple[Entry, ...]
    scopes: tuple[str, ...]
    paged: bool


def readme_rows() -> list[Row]:
    section = README.read_text(encoding="utf-8").split("### Endpoints (all under `/api/v1/`)", 1)[1]
    table = section[section.index("| method and path") :].split("\n\n", 1)[0]
    lines = [line for line in table.splitlines() if line.startswith("| `")]
    rows: list[Row] = []
    for line in lines:
        endpoints, scope, notes = (cell.strip() for cell in line.strip("|").split(" | ", 2))
        entries: list[Entry] = []
        methods: tuple[str, ...] = ()
        for part in endpoints.replace("`", "").split(" · "):
            part = re.sub(r"\s*\(alias [^)]*\)", "", part).strip()
            match = re.fullmatch(rf"({METHODS}(?:/{METHODS})*) (\S+)", part)
            if match:
                methods, path = tuple(match[1].split("/")), match[2]
            else:
                path = part
            partial = not match or path.startswith("…")
            entries.append(Entry(methods, path.lstrip("…"), partial))
        rows.append(Row(tuple(entries), tuple(re.findall(r"`([a-z]+:[a-z]+)`", scope)), "`offset`" in notes))
    return rows


def page_rows(client: Any, user: Any) -> list[str]:
    client.force_login(user)
    response = client.get("/docs/api/")
    assert response.status_code == 200
    page = response.content.decode()
    section = re.search(r'<section[^>]*aria-labelledby="h-endpoints".*?</section>', page, re.S)
    assert section, "the API reference has an Endpoints section"
    rows = section.group(0).split("<tr>")[2:]  # past the header row
    return [html.unescape(re.sub(r"<[^>]+>", " ", row)) for row in rows]


def lists(entry: Entry, text: str) -> bool:
    """The page writes ``GET|POST keys/``; the README ``GET keys/ · POST keys/``: each README
    method must be one of the page's for that path."""
    prefix = r"\S*" if entry.partial else ""
    pattern = rf"(?<![|\w])({METHODS}(?:\|{METHODS})*) {prefix}{re.escape(entry.path)}(?![\w{{/])"
    return any(set(entry.methods) <= set(match.split("|")) for match in re.findall(pattern, text))


def test_the_readme_table_is_read() -> None:
    """The parse below sees the README's table (a test that reads nothing proves nothing)."""
    rows = readme_rows()
    paths = {entry.path for row in rows for entry in row.entries}
    assert len(rows) >= 15
    assert {"health", "keys/", "organizations/{id}/invitations/{invitation_id}/resend/", "scim-tokens/"} <= paths


@pytest.mark.django_db
@pytest.mark.parametrize("index", range(len(readme_rows())))
def test_every_readme_endpoint_is_on_the_reference_page(client, world, index: int) -> None:
    row = readme_rows()[index]
    rows = page_rows(client, world["member"])
    for entry in row.entries:
        found = [text for text in rows if lists(entry, text)]
        assert found, f"{'|'.join(entry.methods)} {entry.path} is not on /docs/api/"
        for scope in row.scopes:
            assert any(scope in text for text in found), (entry.path, scope)
    first = next(text for text in rows if lists(row.entries[0], text))
    if row.paged:
        assert "limit" in first and "offset" in first and "total" in first, (row.entries[0].path, first)


@pytest.mark.django_db
def test_the_invitation_endpoints_say_what_they_do(client, world) -> None:
    rows = page_rows(client, world["member"])
    resend = next(text for text in rows if "invitations/{invitation_id}/resend/" in text)
    assert "members:write" in resend and "resend" in resend.lower() and "withdraw" in resend.lower()


@pytest.mark.django_db
def test_the_member_rows_say_a_key_grants_a_role_only_with_its_scopes(client, world) -> None:
    """docs/authorization.md: through an API key a role is granted (adding, inviting, promoting,
    resending an invitation) only when the key holds every scope of that role, else 403
    ``PERMISSION_DENIED`` naming them in ``required_permissions``. A script with a
    ``members:write``-only key met that 403 with nothing on the reference page announcing it."""
    rows = page_rows(client, world["member"])
    for path in ("organizations/{id}/members/", "invitations/{invitation_id}/resend/"):
        row = next(text for text in rows if path in text)
        assert "every scope" in row and "required_permissions" in row, path
