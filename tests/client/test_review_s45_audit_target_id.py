"""Review s45: an audit entry about an object with no public id (a membership changed in the
admin, a domain claim) has ``"target": {"type": ..., "id": null, ...}`` (docs/audit.md): the
client turned that null into ``""``, so ``entry.target.id is None`` was never true, and an
integrator filtering ``if entry.target.id:`` / joining on ids met a blank id instead of
"none", and ``tater audit list`` printed ``orgmembership:`` with nothing after it.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from tater_client.cli import main

from audit import registry as A
from audit.services import audit_record
from orgs.models import OrgMembership


@pytest.fixture
def membership_entry(acme):
    """An entry whose target (a membership) has no public id, as the admin records one."""
    member = acme.member()
    membership = OrgMembership.objects.get(organization=acme.org, user=member)
    with transaction.atomic():
        audit_record(
            action=A.MEMBER_ROLE_CHANGED,
            tenant=acme.tenant,
            organization=acme.org,
            target=membership,
            changes={"role": {"from": "member", "to": "admin"}},
        )
    return membership


def test_a_target_without_a_public_id_keeps_none(tater, membership_entry):
    entry = tater.audit.list(action=A.MEMBER_ROLE_CHANGED).entries[0]
    assert entry.raw["target"]["id"] is None
    assert entry.target is not None
    assert entry.target.id is None
    assert entry.target.type == "orgmembership" and entry.target.display


def test_a_key_target_still_has_its_id(tater):
    issued = tater.keys.create("with id", scopes=["scans:read"])
    entry = tater.audit.list(target=issued.id).entries[0]
    assert entry.target is not None and entry.target.id == issued.id


def test_the_cli_shows_what_the_target_is_without_a_dangling_colon(acme, membership_entry, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", acme.owner_raw)
    assert main(["--url", acme.url, "audit", "list", "--action", A.MEMBER_ROLE_CHANGED]) == 0
    line = [row for row in capsys.readouterr().out.splitlines() if A.MEMBER_ROLE_CHANGED in row][0]
    assert "orgmembership:" not in line and "None" not in line
    assert "orgmembership" in line
