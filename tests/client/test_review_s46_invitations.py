"""Review s46: the API resends and withdraws invitations (README "Endpoints": ``POST
organizations/{id}/invitations/{invitation_id}/resend/`` and ``DELETE …/invitations/{invitation_id}/``,
``members:write``; README decision "Invitations"), but the Python client and the ``tater``
command had no call for either: a script that invited people with ``members.add`` could list
the invitations it made and do nothing else with them but fall back to ``tater.request``.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from django.core import mail
from tater_client import (
    Invitation,
    KeyTypeNotAllowed,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    Tater,
)
from tater_client.cli import main

from tests.client.servers import serving
from tests.factories import make_key

UNKNOWN_INVITATION = "inv-00000000-0000-4000-8000-000000000000"


def _invite(tater: Tater, org_id: str, email: str) -> Invitation:
    added = tater.members.add(org_id, email, role="viewer")
    assert added.result == "invited" and added.invitation is not None
    return added.invitation


def test_resend_mails_a_new_link_and_answers_the_invitation(acme, tater):
    invitation = _invite(tater, acme.org.public_id, "new.hire@example.com")
    sent = len(mail.outbox)
    resent = tater.members.resend_invitation(acme.org.public_id, invitation.id)
    assert isinstance(resent, Invitation)
    assert (resent.id, resent.email, resent.role) == (invitation.id, "new.hire@example.com", "viewer")
    assert resent.invited_by == acme.owner.email
    assert isinstance(resent.expires_at, datetime) and resent.expires_at >= invitation.expires_at
    assert "token" not in json.dumps(resent.raw)  # the link goes by email only
    assert len(mail.outbox) == sent + 1 and mail.outbox[-1].to == ["new.hire@example.com"]
    page = tater.members.list(acme.org.public_id)
    assert [i.id for i in page.pending_invitations] == [invitation.id]


def test_revoke_withdraws_it_for_good(acme, tater):
    invitation = _invite(tater, acme.org.public_id, "changed.mind@example.com")
    assert tater.members.revoke_invitation(acme.org.public_id, invitation.id) is None
    assert tater.members.list(acme.org.public_id).pending_invitations == []
    with pytest.raises(NotFound):
        tater.members.revoke_invitation(acme.org.public_id, invitation.id)
    with pytest.raises(NotFound):
        tater.members.resend_invitation(acme.org.public_id, invitation.id)


def test_refusals_come_as_their_classes(acme, connect, tater):
    invitation = _invite(tater, acme.org.public_id, "someone.else@example.com")
    with pytest.raises(NotFound):
        tater.members.resend_invitation(acme.org.public_id, UNKNOWN_INVITATION)
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    with pytest.raises(NotFound):  # the path's org counts: this invitation is of another org
        connect(unbound).members.resend_invitation(acme.other_org.public_id, invitation.id)
    plain_member = acme.member("member")
    _, plain_member_raw = make_key(
        user=plain_member, tenant=acme.tenant, org=acme.org, name="member key", scopes=["members:read"]
    )
    with pytest.raises(PermissionDenied) as denied:
        connect(plain_member_raw).members.revoke_invitation(acme.org.public_id, invitation.id)
    assert denied.value.status == 403
    _, public_raw = make_key(
        user=acme.owner, tenant=acme.tenant, org=acme.org, name="public", key_type="public", scopes=["*:read"]
    )
    with pytest.raises(KeyTypeNotAllowed):
        connect(public_raw).members.resend_invitation(acme.org.public_id, invitation.id)
    # A key grants a role only with every scope of it (docs/authorization.md): the refusal names them.
    _, narrow_raw = make_key(user=acme.owner, tenant=acme.tenant, org=acme.org, name="narrow", scopes=["members:write"])
    with pytest.raises(PermissionDenied) as narrow:
        connect(narrow_raw).members.resend_invitation(acme.org.public_id, invitation.id)
    assert {"keys:read", "scans:read", "organizations:read"} <= set(narrow.value.required_permissions)
    # Nothing of that touched it.
    assert [i.id for i in tater.members.list(acme.org.public_id).pending_invitations] == [invitation.id]


def test_resend_is_a_post_not_sent_twice_by_default():
    """A 503 may come after the server acted (README "Retries"): a second resend would mail a
    second link and kill the first. Reads are retried; this POST is not."""
    paths: list[str] = []

    def answer(path: str) -> tuple[int, bytes, dict[str, str]]:
        paths.append(path)
        body = {"error": "SERVICE_UNAVAILABLE", "message": "Service temporarily unavailable", "request_id": "r"}
        return 503, json.dumps(body).encode(), {"Retry-After": "0"}

    with serving(answer) as url, Tater("tater_" + "4" * 32, base_url=url) as tater:
        tater._sleep = lambda seconds: None
        with pytest.raises(ServiceUnavailable):
            tater.members.resend_invitation("org-1", "inv-1")
        assert len(paths) == 1 and paths[0].startswith("/api/v1/organizations/org-1/invitations/inv-1/resend/")
        with pytest.raises(ServiceUnavailable):
            tater.members.list("org-1")
        assert len(paths) > 2  # the read was retried


@pytest.fixture
def cli(acme, monkeypatch, capsys):
    def run(*argv: str, key: str | None = None) -> tuple[int, str, str]:
        monkeypatch.setenv("TATER_API_KEY", key or acme.owner_raw)
        code = main(["--url", acme.url, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_cli_resend_and_revoke_invitation(cli, acme, tater):
    invitation = _invite(tater, acme.org.public_id, "cli.person@example.com")
    code, out, err = cli("members", "resend-invitation", invitation.id)
    assert code == 0, err
    assert "cli.person@example.com" in out and invitation.id in out
    code, out, err = cli("members", "resend-invitation", invitation.id, "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["id"] == invitation.id and body["invited_by"] == acme.owner.email

    code, out, err = cli("members", "revoke-invitation", invitation.id, "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "organization_id": acme.org.public_id,
        "invitation_id": invitation.id,
        "revoked": True,
    }
    code, out, err = cli("members", "revoke-invitation", invitation.id)
    assert code == 1 and "NOT_FOUND" in err

    second = _invite(tater, acme.org.public_id, "cli.other@example.com")
    _, unbound = make_key(user=acme.owner, tenant=acme.tenant, org=None, name="cron")
    code, out, err = cli("members", "revoke-invitation", second.id, "--organization", acme.org.public_id, key=unbound)
    assert code == 0, err
    assert second.id in out and acme.org.public_id in out
    code, _, err = cli("members", "resend-invitation", second.id, key=unbound)
    assert code == 2 and "--organization" in err  # an unbound key of two orgs: which one?
