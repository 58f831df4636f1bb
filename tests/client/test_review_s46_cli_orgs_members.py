"""Review s46: the ``tater`` command had no organization or member commands (SPEC §5: ``GET
organizations/``, ``GET organizations/{id}/``, ``GET|POST organizations/{id}/members/``,
``PATCH|DELETE …/members/{user_id}/``): ``tater orgs list`` or ``tater members add`` was a usage
error (exit 2), so an admin onboarding or offboarding people from a shell went to curl.
"""

from __future__ import annotations

import json

import pytest
from tater_client.cli import main

from tests.factories import UserFactory, make_key


@pytest.fixture
def cli(acme, monkeypatch, capsys):
    def run(*argv: str, key: str | None = None) -> tuple[int, str, str]:
        monkeypatch.setenv("TATER_API_KEY", key or acme.owner_raw)
        code = main(["--url", acme.url, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_orgs_list_get_create_rename(cli, acme):
    code, out, err = cli("orgs", "list")
    assert code == 0, err
    assert acme.org.public_id in out and acme.org.name in out and acme.other_org.public_id not in out
    code, out, _ = cli("orgs", "list", "--json")
    assert [o["id"] for o in json.loads(out)["organizations"]] == [acme.org.public_id]
    code, out, _ = cli("orgs", "get", acme.other_org.public_id)
    assert code == 1  # an org-scoped key reaches its own org only
    code, out, _ = cli("orgs", "get", acme.org.public_id, "--json")
    assert code == 0 and json.loads(out)["tenant_id"] == acme.tenant.public_id

    code, out, err = cli("orgs", "rename", acme.org.public_id, "Acme HQ")
    assert code == 0, err
    assert "Acme HQ" in out
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    code, out, err = cli("orgs", "create", "Research", "--json", key=unbound)
    assert code == 0, err
    created = json.loads(out)
    assert created["name"] == "Research" and created["id"].startswith("org-")
    code, out, _ = cli("orgs", "list", key=unbound)
    assert "Research" in out and "Acme HQ" in out and acme.other_org.public_id in out


def test_members_list_pages_and_all(cli, acme):
    people = [acme.member(role) for role in ("member", "viewer", "admin")]
    code, out, err = cli("members", "list", "--limit", "2")  # the org: the key's own
    assert code == 0, err
    assert sum(line.startswith("usr-") for line in out.splitlines()) == 2
    assert "2 of 4 members shown: --offset 2 for more" in err
    code, out, err = cli("members", "list", "--limit", "2", "--offset", "2")
    assert sum(line.startswith("usr-") for line in out.splitlines()) == 2 and "--offset" not in err
    code, out, _ = cli("members", "list", "--all")
    for person in [acme.owner, *people]:
        assert person.public_id in out and person.email in out
    code, out, _ = cli("members", "list", "--all", "--json")
    assert {m["user_id"] for m in json.loads(out)["members"]} == {acme.owner.public_id, *(p.public_id for p in people)}
    code, out, _ = cli("--organization", acme.org.public_id, "members", "list", "--json")
    assert json.loads(out)["total"] == 4


def test_members_add_invite_update_remove(cli, acme):
    person = UserFactory()
    code, out, err = cli("members", "add", person.email, "--role", "viewer")
    assert code == 0, err
    assert "added" in out and person.public_id in out and "viewer" in out
    code, out, _ = cli("members", "add", "new.person@example.com", "--json")
    body = json.loads(out)
    assert body["result"] == "invited" and body["invitation"]["email"] == "new.person@example.com"
    code, out, _ = cli("members", "list")
    assert "new.person@example.com" in out  # under the pending invitations

    code, out, err = cli("members", "update", person.public_id, "--role", "admin")
    assert code == 0, err
    assert "admin" in out
    code, out, _ = cli("members", "get", person.public_id, "--json")
    assert json.loads(out)["role"] == "admin"
    code, out, err = cli("members", "update", person.public_id)
    assert code == 2 and "--role" in err  # nothing to change
    code, out, err = cli("members", "remove", person.public_id)
    assert code == 0, err
    code, _, err = cli("members", "get", person.public_id)
    assert code == 1 and "NOT_FOUND" in err


def test_members_errors(cli, acme):
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    code, _, err = cli("members", "remove", acme.owner.public_id, "--organization", acme.org.public_id, key=unbound)
    assert code == 1 and "CONFLICT" in err  # the tenant's last owner
    code, _, err = cli("members", "list", key=unbound)
    assert code == 2 and "--organization" in err  # an unbound key of two orgs: which one?
    with pytest.raises(SystemExit) as exited:
        cli("members", "add", "someone@example.com", "--role", "owner")
    assert exited.value.code == 2  # not an org role
