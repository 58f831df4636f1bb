"""Review s44: the audit log's ``target`` filter (README "Decisions on the audit log": the
entries *about* a key, a person or an org, whoever made them; ``key`` is what was done
*with* a key) from the client and the CLI. Before, an integrator asking "what happened to
this key?" had to page through the whole log and filter locally: ``target=`` was a
``TypeError`` and ``tater audit list --target`` a usage error.
"""

from __future__ import annotations

import csv
import io

import pytest
from tater_client import ValidationError
from tater_client.cli import main


@pytest.fixture
def story(acme, tater):
    """Two keys made through the owner's key; the first renamed and revoked."""
    first = tater.keys.create("first", scopes=["scans:read"])
    second = tater.keys.create("second", scopes=["scans:read"])
    tater.keys.update(first.id, name="first, renamed")
    tater.keys.revoke(first.id)
    return first, second


def test_list_and_iter_keep_to_the_entries_about_the_target(tater, story):
    first, second = story
    page = tater.audit.list(target=first.id)
    assert [e.action for e in page.entries] == ["api_key.revoked", "api_key.updated", "api_key.created"]
    assert {e.target.id for e in page.entries if e.target} == {first.id}

    one = tater.audit.list(target=first.id, limit=1)
    assert len(one.entries) == 1 and one.next_cursor
    followed = [e.action for e in tater.audit.iter(target=first.id, page_size=1)]
    assert followed == ["api_key.revoked", "api_key.updated", "api_key.created"]
    # Combined with the other filters, and any case of the id.
    assert [e.action for e in tater.audit.iter(target=second.id.upper(), action="api_key.*")] == ["api_key.created"]


def test_the_export_keeps_to_the_target(tater, story, tmp_path):
    first, _ = story
    rows = list(tater.audit.export_rows(target=first.id))
    assert [r["action"] for r in rows] == ["api_key.revoked", "api_key.updated", "api_key.created"]
    body = b"".join(tater.audit.export(target=first.id))
    assert [r["target_id"] for r in csv.DictReader(io.StringIO(body.decode()))] == [first.id] * 3
    out = tmp_path / "about.csv"
    assert tater.audit.export_to(out, target=first.id) == len(body)


def test_a_target_that_is_no_id_names_the_field(tater):
    with pytest.raises(ValidationError) as caught:
        tater.audit.list(target="tater_0123456789abcdef")
    assert list(caught.value.fields) == ["target"]


def test_the_cli_takes_target(acme, story, monkeypatch, capsys):
    first, _ = story
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    assert main(["--url", acme.url, "--json", "audit", "list", "--target", first.id]) == 0
    listed = __import__("json").loads(capsys.readouterr().out)
    assert [e["action"] for e in listed["entries"]] == ["api_key.revoked", "api_key.updated", "api_key.created"]

    assert main(["--url", acme.url, "audit", "export", "--since", "2000-01-01", "--target", first.id]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {r["target_id"] for r in rows} == {first.id} and len(rows) == 3


def test_one_filters_object_serves_every_call(tater, story):
    from tater_client import AuditFilters

    first, _ = story
    about = AuditFilters(target=first.id, action="api_key.*")
    assert [e.action for e in tater.audit.iter(filters=about)] == [
        "api_key.revoked",
        "api_key.updated",
        "api_key.created",
    ]
    # A keyword given alongside replaces its field.
    assert [e.action for e in tater.audit.list(filters=about, action="api_key.revoked").entries] == ["api_key.revoked"]
    assert [r["action"] for r in tater.audit.export_rows(filters=about, action="api_key.created")] == [
        "api_key.created"
    ]
