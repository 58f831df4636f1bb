"""Review s39: a passkey's "Remove" on the security page posted twice (a double click, a
reload answering "resend the form") answered the 404 page "No such passkey" although the first
press had worked. The second press now goes back to the security page saying the passkey was
already removed, and changes nothing; someone else's passkey id is still a 404."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tests.accounts.conftest import enrol
from tests.accounts.test_passkeys import enrol_passkey, sign_in
from tests.factories import UserFactory, make_tenant

pytestmark = pytest.mark.django_db


def test_remove_posted_twice_ends_on_the_security_page() -> None:
    _, user, _ = make_tenant()
    client = Client()
    sign_in(client, user)
    _, passkey = enrol_passkey(client)
    enrol(user)  # an authenticator app stays: removing the passkey leaves 2FA on
    url = f"/accounts/passkeys/{passkey.pk}/remove/"
    first = client.post(url)
    assert first.status_code == 302 and not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    entries = AuditEvent.objects.count()

    again = client.post(url, follow=True)
    assert again.status_code == 200, again.content.decode()[:500]
    assert again.redirect_chain[-1][0] == "/accounts/security/"
    assert "already removed" in " ".join(str(m) for m in again.context["messages"])
    assert AuditEvent.objects.count() == entries

    # Someone else pressing it (another account's id) still gets the 404 page.
    stranger = Client()
    sign_in(stranger, UserFactory())
    assert stranger.post(url).status_code == 404
