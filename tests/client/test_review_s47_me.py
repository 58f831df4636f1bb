"""Review s47: ``GET me`` (SPEC §5; README "REST API": who is calling, their tenants and orgs
with roles, the current org, 2FA status; "A key only sees its own tenant/org") had no typed
call in the Python client nor a ``tater`` command: a script asking whose key it holds and in
which org it acts parsed ``tater.request("GET", "/me")`` by hand.
"""

from __future__ import annotations

import json

import pytest
from tater_client import KeyTypeNotAllowed
from tater_client.cli import main


def test_me_says_whose_key_it_is_and_only_its_own_org(acme, tater):
    me = tater.me()
    assert me.user.email == acme.owner.email and me.user.id.startswith("usr-")
    assert me.user.is_staff is False
    assert me.authentication == "api_key"
    assert me.two_factor_enabled is False
    assert [(t.id, t.role) for t in me.tenants] == [(acme.tenant.public_id, "owner")]
    assert [t.plan for t in me.tenants] == ["enterprise"]
    # The key is bound to the first org: the second is not in its view.
    assert [o.id for o in me.organizations] == [acme.org.public_id]
    assert me.organizations[0].tenant_id == acme.tenant.public_id
    assert me.organizations[0].tenant_role == "owner"
    assert me.current_organization is not None and me.current_organization.id == acme.org.public_id
    assert me.current_organization.name == acme.org.name
    assert me.permissions and set(me.permissions) == set(tater.validate().permissions)
    assert me.raw["user"]["email"] == acme.owner.email


def test_a_members_key_shows_the_members_role(acme, connect):
    member = acme.member("member")
    _, raw = acme.key(user=member, name="member key", scopes=["*:read"])
    me = connect(raw).me()
    assert me.user.email == member.email
    assert me.tenants[0].role is None
    assert [(o.id, o.role, o.tenant_role) for o in me.organizations] == [(acme.org.public_id, "member", None)]


def test_a_public_key_is_refused(acme, connect):
    _, raw = acme.key(name="widget", key_type="public", scopes=["scans:read"])
    with pytest.raises(KeyTypeNotAllowed):
        connect(raw).me()


def test_the_me_command(acme, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    assert main(["--url", acme.url, "me"]) == 0
    out = capsys.readouterr().out
    assert acme.owner.email in out and acme.org.public_id in out and "api_key" in out
    assert acme.other_org.public_id not in out
    assert main(["--url", acme.url, "me", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["user"]["email"] == acme.owner.email
    assert body["current_organization"]["id"] == acme.org.public_id
