"""Review s44: ``tater.keys.iter`` while the listing changes under it, as scripts do ("revoke
every active key named ci-*", "rotate every key as I go"). The client paged by ``offset``:
revoking the keys of one page moved the next ones forward, past the offset, so half of them
were never seen (never revoked, silently); a key created meanwhile (newest first) pushed the
last key of a page onto the next one, seen twice. The API pages keys by ``starting_after``
(Stripe's: the last id of the previous page, "whatever changed meanwhile", with ``has_more``);
SPEC §5 lists keys with filters, README "every page, lazily".
"""

from __future__ import annotations

from tater_client.cli import main


def test_revoking_as_the_iteration_goes_reaches_every_key(acme, tater):
    made = {tater.keys.create(f"ci-{i}", scopes=["scans:read"]).id for i in range(7)}
    revoked: list[str] = []
    for key in tater.keys.iter(status="active", page_size=2):
        if key.name.startswith("ci-"):
            tater.keys.revoke(key.id)
            revoked.append(key.id)
    assert sorted(revoked) == sorted(made)
    assert {k.id for k in tater.keys.iter(status="active")} == {acme.owner_key.public_id}


def test_a_key_created_meanwhile_shows_no_key_twice(acme, tater):
    before = [tater.keys.create(f"k-{i}", scopes=["scans:read"]).id for i in range(4)]
    seen: list[str] = []
    for key in tater.keys.iter(page_size=2):
        if not seen:
            tater.keys.create("late", scopes=["scans:read"])
        seen.append(key.id)
    assert len(seen) == len(set(seen))
    assert set(before) | {acme.owner_key.public_id} <= set(seen)


def test_list_takes_starting_after_and_tells_has_more(acme, tater):
    ids = [tater.keys.create(f"p-{i}", scopes=["scans:read"]).id for i in range(3)]
    first = tater.keys.list(limit=2)
    assert [k.id for k in first.keys] == [ids[2], ids[1]] and first.has_more is True
    rest = tater.keys.list(limit=2, starting_after=first.keys[-1].id)
    assert [k.id for k in rest.keys] == [ids[0], acme.owner_key.public_id] and rest.has_more is False


def test_the_cli_lists_every_key_with_all(acme, tater, monkeypatch, capsys):
    ids = {tater.keys.create(f"c-{i}", scopes=["scans:read"]).id for i in range(3)}
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    assert main(["--url", acme.url, "--json", "keys", "list", "--all"]) == 0
    listed = __import__("json").loads(capsys.readouterr().out)
    assert {k["id"] for k in listed["keys"]} == ids | {acme.owner_key.public_id} and listed["total"] == 4
