"""SPEC §5 (members over the API), §2a (who may act), §3 (errors), §1 (a foreign object is a
404): ``POST organizations/{id}/members/`` emails an invitation and the member list shows it in
``pending_invitations``, but an integrator could neither send it again nor withdraw it: only the
members page could. ``POST organizations/{id}/invitations/{invitation_id}/resend/`` and
``DELETE organizations/{id}/invitations/{invitation_id}/`` (GitHub's org invitations API is the
model) now do what the page's buttons do, with the same audit entries and the same rule
(``members:write`` on that org, a standard key confined to its org); an invitation, org or key
of elsewhere is a 404 or a 403 and changes nothing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from audit.models import AuditEvent
from orgs.models import Invitation
from tests.factories import UserFactory, make_key

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def members_url(org: Any) -> str:
    return f"/api/v1/organizations/{org.public_id}/members/"


def invitation_url(org: Any, invitation_id: str) -> str:
    return f"/api/v1/organizations/{org.public_id}/invitations/{invitation_id}/"


def _invite(api: Any, org: Any, raw: str, email: str = "newcomer@example.com", role: str = "member") -> str:
    r = api.post(members_url(org), {"email": email, "role": role}, format="json", HTTP_X_API_KEY=raw)
    assert r.status_code == 201 and r.json()["result"] == "invited", r.content
    return str(r.json()["invitation"]["id"])


def _link(message: Any) -> str:
    return re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)


def _pending(api: Any, world: dict[str, Any]) -> list[str]:
    body = api.get(members_url(world["org1"]), HTTP_X_API_KEY=world["owner_raw"]).json()
    return [i["id"] for i in body["pending_invitations"]]


def test_resend_mails_a_new_link_and_the_old_one_stops_working(api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_id = _invite(api, world["org1"], world["owner_raw"])
    old_link = _link(mail.outbox[-1])
    before = Invitation.objects.get(public_id=invitation_id).expires_at
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post(f"{invitation_url(world['org1'], invitation_id)}resend/", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["id"] == invitation_id and body["email"] == "newcomer@example.com" and body["role"] == "member"
    assert body["invited_by"] == world["owner"].email
    assert "link" not in body and "token" not in body  # the link goes by email only, as on create
    assert len(mail.outbox) == 2 and mail.outbox[-1].to == ["newcomer@example.com"]
    new_link = _link(mail.outbox[-1])
    assert new_link != old_link
    assert Invitation.objects.get(public_id=invitation_id).expires_at >= before
    event = AuditEvent.objects.get(action="member.invitation_resent")
    assert event.target_id == invitation_id and event.organization_id == world["org1"].pk

    browser = Client()
    browser.force_login(UserFactory(email="newcomer@example.com"))
    assert browser.get(old_link).status_code == 404
    assert browser.get(new_link).status_code in (200, 403)  # exists (the address still to confirm)
    assert _pending(api, world) == [invitation_id]


def test_delete_revokes_it_and_a_second_delete_is_a_404(api, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation_id = _invite(api, world["org1"], world["owner_raw"])
    link = _link(mail.outbox[-1])
    r = api.delete(invitation_url(world["org1"], invitation_id), HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 204, r.content
    assert _pending(api, world) == []
    event = AuditEvent.objects.get(action="member.invitation_revoked")
    assert event.target_id == invitation_id and event.organization_id == world["org1"].pk
    browser = Client()
    browser.force_login(UserFactory(email="newcomer@example.com"))
    assert browser.get(link).status_code == 410
    for again in (
        api.delete(invitation_url(world["org1"], invitation_id), HTTP_X_API_KEY=world["owner_raw"]),
        api.post(f"{invitation_url(world['org1'], invitation_id)}resend/", HTTP_X_API_KEY=world["owner_raw"]),
    ):
        assert again.status_code == 404 and again.json()["error"] == "NOT_FOUND", again.content
    assert len(mail.outbox) == 1


def _untouched(world: dict[str, Any], invitation_id: str, digest: str) -> None:
    invitation = Invitation.objects.get(public_id=invitation_id)
    assert invitation.revoked_at is None and invitation.token_digest == digest
    assert not AuditEvent.objects.filter(
        action__in=["member.invitation_resent", "member.invitation_revoked"], target_id=invitation_id
    ).exists()


def _both(api: Any, org: Any, invitation_id: str, **headers: Any) -> list[Any]:
    return [
        api.post(f"{invitation_url(org, invitation_id)}resend/", **headers),
        api.delete(invitation_url(org, invitation_id), **headers),
    ]


def test_a_key_of_another_tenant_gets_a_404(api, world):
    invitation_id = _invite(api, world["org1"], world["owner_raw"])
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    for r in _both(api, world["org1"], invitation_id, HTTP_X_API_KEY=world["other_raw"]):
        assert r.status_code == 404, r.content
    # Its own org in the path, this tenant's invitation id: not found there either.
    for r in _both(api, world["other_org"], invitation_id, HTTP_X_API_KEY=world["other_raw"]):
        assert r.status_code == 404, r.content
    _untouched(world, invitation_id, digest)


def test_a_key_bound_to_a_sibling_org_is_confined_to_it(api, world):
    invitation_id = _invite(api, world["org1"], world["owner_raw"])
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    _, org2_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org2"], name="org2 key")
    for r in _both(api, world["org1"], invitation_id, HTTP_X_API_KEY=org2_raw):
        assert r.status_code == 404, r.content
    # org2 in the path, org1's invitation: a foreign invitation is a 404.
    for r in _both(api, world["org2"], invitation_id, HTTP_X_API_KEY=org2_raw):
        assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND", r.content
    _untouched(world, invitation_id, digest)


def test_an_invitation_of_another_org_in_the_path_is_a_404_even_for_the_tenant_owner(api, world):
    _, unbound_raw = make_key(user=world["owner"], tenant=world["tenant"], org=None, name="unbound")
    invitation_id = _invite(api, world["org1"], world["owner_raw"])
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    for r in _both(api, world["org2"], invitation_id, HTTP_X_API_KEY=unbound_raw):
        assert r.status_code == 404, r.content
    api.force_login(world["owner"])
    for r in _both(api, world["org2"], invitation_id):
        assert r.status_code == 404, r.content
    _untouched(world, invitation_id, digest)
    # And in its own org's path the unbound key does it.
    r = api.delete(invitation_url(world["org1"], invitation_id), HTTP_X_API_KEY=unbound_raw)
    assert r.status_code == 204, r.content


def test_a_viewer_or_a_member_may_not(api, world):
    invitation_id = _invite(api, world["org1"], world["owner_raw"])
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    for r in _both(api, world["org1"], invitation_id, HTTP_X_API_KEY=world["member_raw"]):
        assert r.status_code == 403 and r.json()["error"] == "PERMISSION_DENIED", r.content
    for person in (world["viewer"], world["member"]):
        api.force_login(person)
        for r in _both(api, world["org1"], invitation_id):
            assert r.status_code == 403 and r.json()["error"] == "PERMISSION_DENIED", r.content
        api.logout()
    _untouched(world, invitation_id, digest)


def test_a_read_only_or_public_key_of_the_owner_may_not(api, world):
    invitation_id = _invite(api, world["org1"], world["owner_raw"])
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    _, read_raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], name="r", scopes=["*:read"])
    _, public_raw = make_key(
        user=world["owner"], tenant=world["tenant"], org=world["org1"], name="p", key_type="public", scopes=["*:read"]
    )
    for r in _both(api, world["org1"], invitation_id, HTTP_X_API_KEY=read_raw):
        assert r.status_code == 403 and r.json()["error"] == "PERMISSION_DENIED", r.content
    for r in _both(api, world["org1"], invitation_id, HTTP_X_API_KEY=public_raw):
        assert r.status_code == 403 and r.json()["error"] == "KEY_TYPE_NOT_ALLOWED", r.content
    _untouched(world, invitation_id, digest)


def test_an_org_admin_resends_and_vouches_for_it_from_then_on(api, world):
    invitation_id = _invite(api, world["org1"], world["owner_raw"], role="admin")
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    _, admin_raw = make_key(user=world["admin"], tenant=world["tenant"], org=world["org1"], name="admin key")
    # An org admin grants up to admin: allowed.
    r = api.post(f"{invitation_url(world['org1'], invitation_id)}resend/", HTTP_X_API_KEY=admin_raw)
    assert r.status_code == 200 and r.json()["invited_by"] == world["admin"].email, r.content
    assert Invitation.objects.get(public_id=invitation_id).token_digest != digest


def test_unknown_ids_bodies_and_parameters_are_refused(api, world):
    invitation_id = _invite(api, world["org1"], world["owner_raw"])
    digest = Invitation.objects.get(public_id=invitation_id).token_digest
    key = {"HTTP_X_API_KEY": world["owner_raw"]}
    for bogus in ("inv-00000000-0000-4000-8000-000000000000", "1", "abc"):
        for r in _both(api, world["org1"], bogus, **key):
            assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND", r.content
    url = invitation_url(world["org1"], invitation_id)
    r = api.post(f"{url}resend/", {"role": "admin"}, format="json", **key)
    assert r.status_code == 400 and r.json()["error"] == "VALIDATION_ERROR", r.content
    r = api.delete(f"{url}?dry_run=true", **key)
    assert r.status_code == 400 and "dry_run" in r.json()["details"]["fields"], r.content
    assert api.get(url, **key).status_code == 405
    _untouched(world, invitation_id, digest)


def test_the_schema_and_the_readme_describe_them(api, world):
    api.force_login(world["owner"])
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = {path: set(ops) for path, ops in schema["paths"].items()}
    resend = next(p for p in paths if p.endswith("/invitations/{invitation_id}/resend/"))
    revoke = next(p for p in paths if p.endswith("/invitations/{invitation_id}/"))
    assert "post" in paths[resend] and "delete" in paths[revoke]
    readme = README.read_text()
    assert "invitations/{invitation_id}/resend/" in readme
    assert re.search(r"curl [^\n]*-X DELETE [^\n]*/invitations/", readme), "a curl example of the revocation"
    assert re.search(r"curl [^\n]*-X POST [^\n]*/invitations/[^\n]*/resend/", readme), "a curl example of the resend"
