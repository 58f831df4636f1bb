"""A passkey removed while it answers is a refused answer, not a server error (SPEC §3, §13).

An operator removes a person's lost passkey in the admin (or the person removes it on another
device) at the instant someone answers a sign-in with it: django-otp-webauthn looked the passkey
up, verified the answer, then saved its new signature counter with ``update_fields``, which
found no row: ``DatabaseError("Save with update_fields did not affect any rows")``, a 500. The
sign-in must fail as any answer from a passkey that is not there (counted, never a 500)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from audit.models import AuditEvent
from tests.accounts.test_passkeys import me, post_json, sign_in, user_with_passkey

pytestmark = pytest.mark.django_db

BEGIN = "/accounts/2fa/challenge/passkey/begin/"
COMPLETE = "/accounts/2fa/challenge/passkey/complete/"


def test_a_passkey_removed_while_it_answers_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _tenant, user, authenticator = user_with_passkey()
    client = Client()
    sign_in(client, user)
    options = post_json(client, BEGIN).json()
    # The library found the passkey (this copy of its row), then the operator's removal
    # committed (on another connection, in production) before the library saved the counter.
    found = WebAuthnCredential.get_by_credential_id(authenticator.credential_id)
    monkeypatch.setattr(WebAuthnCredential, "get_by_credential_id", staticmethod(lambda credential_id: found))
    WebAuthnCredential.objects.filter(pk=found.pk).delete()
    failures = AuditEvent.objects.filter(action="user.login_failed").count()
    answer = post_json(client, COMPLETE, authenticator.get(options))
    assert answer.status_code in (400, 401, 403), (answer.status_code, answer.content[:300])
    assert me(client).status_code == 401
    assert AuditEvent.objects.filter(action="user.login_failed").count() == failures + 1
