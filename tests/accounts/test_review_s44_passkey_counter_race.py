"""Review s44 (C): a copied passkey and the genuine one answering at the same instant (SPEC §7,
§8, §13; WebAuthn §6.1.1).

django-otp-webauthn reads the passkey's signature counter, verifies the answer against it,
then saves the new counter, with no lock: two sign-ins answered at once by two authenticators
holding the same key (a copy and the original, both one step past the stored counter) each
read the old counter, each verified and both were accepted; the clone signal
(``mfa.passkey_clone_suspected``) never fired. Expectations: one of the two is accepted, the
other refused as a counter that did not go up (a failed sign-in, audited as a possible copy
naming the passkey). Answering takes the account's row, then the passkey's (the order of a
passkey's removal); an operator deleting the account took the passkey first (the deletion
removes it before the account): now the account's row first too, not "deadlock detected".
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models.signals import post_delete
from django.test import Client, RequestFactory
from django_otp_webauthn import helpers as webauthn_helpers
from django_otp_webauthn.models import WebAuthnCredential

from accounts import challenges, passkeys
from audit.models import AuditEvent
from tests.accounts.test_passkeys import SoftAuthenticator, post_json, sign_in, user_with_passkey, user_with_passkey_of
from tests.accounts.test_review_s43_passkey_clone_signal import BEGIN, CLONE, COMPLETE, signed
from tests.factories import UserFactory
from tests.races import soon, while_held

pytestmark = [
    pytest.mark.realservices,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("_postgresql_only"),
]
# Reached by the library once it has read the stored counter, before it saves the new one.
VERIFYING = (webauthn_helpers, "verify_authentication_response")


def _pending(user: Any, authenticator: SoftAuthenticator, count: int) -> tuple[Client, Any]:
    """A sign-in waiting for its second step, and an answer carrying counter ``count``."""
    client = Client()
    sign_in(client, user)
    options = post_json(client, BEGIN).json()
    return client, signed(authenticator, options, count=count)


def _answered(user: Any, authenticator: SoftAuthenticator, count: int) -> Callable[[], Any]:
    """A JSON sign-in's second step (its token, the passkey challenge on it) and, to call, its
    answer carrying counter ``count``: the service each request runs, without the per-account
    attempt slot (tater.lockout), which the limiter's fail-open mode lets through."""
    request = RequestFactory().post("/api/v1/auth/verify-2fa")
    token = challenges.login_challenge_create(user=user)
    options = passkeys.login_challenge_passkey_options(request=request, token=token)
    answer = signed(authenticator, options, count=count)
    return lambda: passkeys.login_challenge_complete_passkey(request=request, token=token, assertion=answer)


def test_a_copy_and_the_original_answering_at_once_are_not_both_accepted() -> None:
    tenant, user, authenticator = user_with_passkey()
    stored = WebAuthnCredential.objects.get(user=user).sign_count
    # The copy and the genuine key hold the same key and the same counter: both say stored + 1.
    one, other = _answered(user, authenticator, stored + 1), _answered(user, authenticator, stored + 1)
    outcomes: list[str] = []

    def outcome(answer: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> None:
            try:
                answer()
                outcomes.append("accepted")
            except passkeys.PasskeyRefused:
                outcomes.append("refused")

        return soon(run)

    errors = while_held(outcome(one), outcome(other), pause_in=VERIFYING)

    assert errors == []
    assert sorted(outcomes) == ["accepted", "refused"], outcomes
    assert WebAuthnCredential.objects.get(user=user).sign_count == stored + 1
    entry = AuditEvent.objects.get(action=CLONE)
    assert entry.tenant == tenant and entry.target_id == str(user.public_id)
    assert entry.changes["sign_count"] == {"stored": stored + 1, "received": stored + 1}


def test_the_owner_removing_the_passkey_while_it_answers_waits_for_the_answer() -> None:
    _tenant, user, authenticator = user_with_passkey()
    client, answer = _pending(user, authenticator, WebAuthnCredential.objects.get(user=user).sign_count + 1)
    statuses: list[int] = []

    def remove() -> None:
        passkeys.passkey_remove(passkey=WebAuthnCredential.objects.get(user=user))

    errors = while_held(
        soon(lambda: statuses.append(post_json(client, COMPLETE, answer).status_code)),
        soon(remove),
        pause_in=VERIFYING,
    )

    assert errors == []
    assert statuses == [200]  # answered first, by a passkey that was there
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="mfa.disabled", changes__method="passkey").count() == 1


def passkey_deleted() -> None:
    """Reached by a deletion once it has deleted a passkey's row (the race below pauses here)."""


def _on_passkey_deleted(**kwargs: Any) -> None:
    passkey_deleted()  # looked up when called: while_held replaces it


def test_an_operator_deleting_the_account_while_its_passkey_answers(settings: Any) -> None:
    settings.TATER_ADMIN_REQUIRES_OTP = False
    _none, user, authenticator = user_with_passkey_of("leaving@race.test")  # no tenant to leave ownerless
    client, answer = _pending(user, authenticator, WebAuthnCredential.objects.get(user=user).sign_count + 1)
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    statuses: list[int] = []
    post_delete.connect(_on_passkey_deleted, sender=WebAuthnCredential)
    try:
        errors = while_held(
            soon(
                lambda: statuses.append(
                    staff.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}).status_code
                )
            ),
            soon(lambda: statuses.append(post_json(client, COMPLETE, answer).status_code)),
            pause_in=(sys.modules[__name__], "passkey_deleted"),
        )
    finally:
        post_delete.disconnect(_on_passkey_deleted, sender=WebAuthnCredential)

    assert errors == []
    assert statuses[0] == 302 and statuses[1] in (400, 401), statuses  # the account went first
    assert not type(user).objects.filter(pk=user.pk).exists()
