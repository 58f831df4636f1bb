"""Review s45: the ``tater`` command's "more" hints. ``tater keys list`` told the user to go on
with ``--offset N``; ``GET keys/`` also takes ``starting_after`` (README "Decisions on
lists": offset paging skipped half the keys of a ``--status active`` list revoked page by
page), and the CLI had no way to send it. After a page read with ``--starting-after`` the
hint still named an offset counted from 0 (the first page again). ``tater scans list`` said
nothing when more scans followed: a user read 50 and believed that was all.
"""

from __future__ import annotations

import re

import pytest
from tater_client.cli import main


@pytest.fixture
def cli(acme, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)

    def run(*argv: str) -> tuple[str, str]:
        assert main(["--url", acme.url, *argv]) == 0
        captured = capsys.readouterr()
        return captured.out, captured.err

    return run


def _ids(out: str) -> list[str]:
    return re.findall(r"^(key-\S+)", out, re.MULTILINE)


def test_keys_list_hints_and_takes_starting_after(tater, cli):
    for name in ("a", "b", "c"):
        tater.keys.create(f"ci-{name}", scopes=["scans:read"])
    seen: list[str] = []
    argv = ["keys", "list", "--status", "active", "--limit", "1"]
    while True:
        out, err = cli(*argv)
        page = _ids(out)
        assert len(page) == 1
        seen += page
        if page[0] != tater.validate().id:
            tater.keys.revoke(page[0])  # the list shrinks as the user goes, as in the README
        match = re.search(r"--starting-after (\S+)", err)
        if not match:
            break
        assert match.group(1) == page[0] and "--offset" not in err
        argv = ["keys", "list", "--status", "active", "--limit", "1", "--starting-after", match.group(1)]
    assert len(seen) == 4 and len(set(seen)) == 4  # three keys and the owner's: none skipped


def test_scans_list_says_more_follow(tater, cli):
    for day in (1, 2, 3):
        tater.scans.upload({"scanner": "nmap", "target": "t", "started_at": f"2026-01-0{day}T00:00:00Z"})
    _, err = cli("scans", "list", "--limit", "2")
    assert "2 of 3 scans shown" in err and "--offset 2" in err
    out, err = cli("scans", "list", "--limit", "2", "--offset", "2")
    assert out.count("scan-") == 1 and "--offset" not in err
