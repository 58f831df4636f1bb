"""Passkeys (WebAuthn) as a second factor beside TOTP and recovery codes (SPEC §13).

django-otp-webauthn stores the credentials (``WebAuthnCredential``, a django-otp device, so
``has_2fa``, ``is_verified()``, the admin and the tenant "require 2FA" policy count a passkey
like any other factor) and does the WebAuthn work: its ``WebAuthnHelper`` builds the options
and verifies attestations and assertions through py_webauthn. This module adds what Tater
decides: the relying party, who may enrol, audited enrolment/renaming/removal, and the
single-use challenges of the UI second step (in the session) and of the JSON second step
(on the ``LoginChallenge`` row). Passkeys never sign anyone in on their own
(``OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False``): the password or SSO comes first.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn import exceptions as webauthn_errors
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.utils import rewrite_exceptions
from webauthn import base64url_to_bytes, verify_authentication_response
from webauthn.helpers import exceptions as pywebauthn_errors
from webauthn.helpers import parse_authentication_credential_json, parse_authenticator_data

from accounts import challenges, mfa, services
from accounts.models import LoginChallenge, RecoveryCodeDevice
from audit import registry as A
from audit.services import audit_record
from tater import names
from tater.exceptions import InvalidInput

logger = logging.getLogger(__name__)

DEFAULT_NAME = "Passkey"
NAME_MAX_LENGTH = 64  # django-otp's Device.name
# Session keys of the UI ceremonies: the py_webauthn state, whose user and when it was issued.
REGISTRATION_STATE = "tater_passkey_registration"
AUTHENTICATION_STATE = "tater_passkey_authentication"


class PasskeyRefused(services.InvalidOTP):
    """A registration or assertion that does not verify (or whose challenge is gone)."""

    def __init__(self, message: str = "That passkey could not be verified") -> None:
        super().__init__(message)


# --- Relying party --------------------------------------------------------------------


def relying_party_id(request: HttpRequest) -> str:
    """``OTP_WEBAUTHN_RP_ID_CALLABLE``: the ``OTP_WEBAUTHN_RP_ID`` setting, else the request's
    host name (already checked against ALLOWED_HOSTS). Passkeys are bound to it for good, so
    production sets it to the site's domain."""
    configured = str(getattr(settings, "OTP_WEBAUTHN_RP_ID", "") or "").strip()
    if configured:
        return configured
    domain, _port = split_domain_port(request.get_host())
    return domain


class PasskeyHelper(WebAuthnHelper):
    """``OTP_WEBAUTHN_HELPER_CLASS``: django-otp-webauthn's helper, with the expected origins
    defaulting to the request's own origin when ``OTP_WEBAUTHN_ALLOWED_ORIGINS`` is empty.
    That is safe because the Host header was validated against ALLOWED_HOSTS: an assertion
    relayed from another site carries that site's origin in its signed client data."""

    def get_allowed_origins(self) -> list[str]:
        configured = list(super().get_allowed_origins() or [])
        return configured or [f"{self.request.scheme}://{self.request.get_host()}"]

    def authenticate_complete(self, user: Any, state: dict[str, Any], data: dict[str, Any]) -> WebAuthnCredential:
        """The library's check, with the passkey's row locked until the caller's transaction
        ends: it reads the signature counter, verifies, then saves the new one, so two answers
        at once (a copied authenticator and the genuine one) each passed against the old count.
        The account's row first, as a passkey's removal takes it (one removal at a time)."""
        with transaction.atomic():
            if user is not None:
                get_user_model().objects.select_for_update(no_key=True).only("pk").filter(pk=user.pk).first()
                raw_id = parse_authentication_credential_json(data).raw_id
                WebAuthnCredential.objects.select_for_update().filter(
                    user=user, credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(raw_id)
                ).only("pk").first()
            return super().authenticate_complete(user=user, state=state, data=data)


def helper_for(request: HttpRequest) -> PasskeyHelper:
    return WebAuthnCredential.get_webauthn_helper(request=request)


def _timeout() -> int:
    return int(getattr(settings, "OTP_WEBAUTHN_TIMEOUT_SECONDS", 300))


def _verifying() -> rewrite_exceptions:
    # py_webauthn's exceptions become django-otp-webauthn's API errors (caught by callers).
    return rewrite_exceptions(logger=None)


# Everything that means "this response does not verify": the library's API errors and
# py_webauthn's, plus what a malformed body raises while being parsed.
REFUSALS = (webauthn_errors.OTPWebAuthnApiError, pywebauthn_errors.WebAuthnException, KeyError, TypeError, ValueError)


# --- Reads ----------------------------------------------------------------------------


def passkeys_of(user: Any) -> Any:
    """The user's passkeys, newest first."""
    return WebAuthnCredential.objects.filter(user=user).order_by("-created_at", "-pk")


def has_passkey(user: Any) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def passkey_of(*, user: Any, passkey_id: int) -> WebAuthnCredential | None:
    """The user's own passkey ``passkey_id``, or None (callers answer 404)."""
    return WebAuthnCredential.objects.filter(user=user, pk=passkey_id).first()


# --- Enrolment, renaming, removal ----------------------------------------------------


def passkey_registration_begin(*, request: HttpRequest, user: Any) -> dict[str, Any]:
    """Creation options for the browser; the state waits in the session for the answer."""
    options, state = helper_for(request).register_begin(user=user)
    request.session[REGISTRATION_STATE] = {"state": state, "user": user.pk, "at": time.time()}
    return options


def _take_session_state(request: HttpRequest, key: str, user: Any) -> dict[str, Any] | None:
    """The pending ceremony's state, removed from the session first (and saved at once), so
    a challenge is answered once even if verification fails; None when missing, stale or
    issued to another user. A session ended meanwhile ("sign out everywhere", an operator) is
    answered as Django answers it once a view is done (400, signed out), not with a 500."""
    pending = request.session.pop(key, None)
    try:
        request.session.save()
    except UpdateError:
        raise SessionInterrupted("The session was ended (signed out) while this request ran") from None
    if not isinstance(pending, dict) or pending.get("user") != user.pk:
        return None
    if time.time() - float(pending.get("at", 0)) > _timeout():
        return None
    state = pending.get("state")
    return state if isinstance(state, dict) else None


def _default_name(user: Any) -> str:
    count = WebAuthnCredential.objects.filter(user=user).count()
    return DEFAULT_NAME if count == 0 else f"{DEFAULT_NAME} {count + 1}"


def passkey_registration_complete(*, request: HttpRequest, user: Any, data: Any) -> WebAuthnCredential:
    """Verify the browser's attestation for the pending registration and store the passkey
    (named "Passkey", "Passkey 2", …; renamed later). Audited as ``mfa.enabled``."""
    state = _take_session_state(request, REGISTRATION_STATE, user)
    if state is None:
        raise PasskeyRefused("Start adding the passkey again: the request expired")
    if not isinstance(data, dict):
        raise PasskeyRefused()
    name = _default_name(user)
    try:
        with transaction.atomic(), _verifying():
            device = helper_for(request).register_complete(user=user, state=state, data=data)
            device.name = name
            device.save(update_fields=["name"])
            audit_record(
                action=A.MFA_ENABLED,
                tenant=services.home_tenant(user),
                target=user,
                changes={"method": "passkey", "name": name},
                actor_user=user,
            )
    except IntegrityError:  # a credential id already registered (to anyone)
        raise PasskeyRefused("This passkey is already registered") from None
    except REFUSALS as exc:
        logger.info("passkey registration refused: %s", type(exc).__name__)
        raise PasskeyRefused("The server could not verify this passkey") from None
    return device


def clean_name(name: str | None) -> str:
    """Its spaces tidied, then the rule of every name people give things (``tater.names``:
    one line, no text-direction or invisible characters)."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidInput("Give the passkey a name", field="name")
    return names.clean_name(cleaned, what="A passkey's name", max_length=NAME_MAX_LENGTH)


@transaction.atomic
def passkey_rename(*, passkey: WebAuthnCredential, name: str) -> WebAuthnCredential:
    """Audited ``mfa.passkey_renamed`` (the name tells an account's factors apart); the same
    name again changes nothing and records nothing."""
    before, passkey.name = passkey.name, clean_name(name)
    if passkey.name == before:
        return passkey
    passkey.save(update_fields=["name"])
    audit_record(
        action=A.MFA_PASSKEY_RENAMED,
        tenant=services.home_tenant(passkey.user),
        target=passkey.user,
        changes={"method": "passkey", "name": {"from": before, "to": passkey.name}},
        actor_user=passkey.user,
    )
    return passkey


@transaction.atomic
def passkey_remove(*, passkey: WebAuthnCredential) -> None:
    """Delete one of the user's passkeys (audited ``mfa.disabled``). When it was the last
    factor besides the recovery codes, those go too: two-factor authentication is then off,
    as after "Turn off", rather than resting on single-use codes alone; and like "Turn off",
    that is refused for a member of a tenant requiring 2FA (:class:`mfa.SecondFactorRequired`)."""
    user, name = passkey.user, passkey.name
    # One removal at a time per account: two at once would each see the other's passkey
    # and leave the recovery codes as the only factor.
    type(user).objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
    others = (
        WebAuthnCredential.objects.filter(user=user, confirmed=True).exclude(pk=passkey.pk).exists()
        or TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )
    if passkey.confirmed and not others and mfa.requires_2fa(user):
        raise mfa.SecondFactorRequired(mfa.LAST_FACTOR_REFUSED)  # as "Turn off" (accounts.mfa)
    deleted, _ = passkey.delete()
    if not deleted:
        return  # removed by the removal this one waited for: nothing happened, nothing to audit
    if not others:
        RecoveryCodeDevice.delete_for(user)
    audit_record(
        action=A.MFA_DISABLED,
        tenant=services.home_tenant(user),
        target=user,
        changes={"method": "passkey", "name": name, "second_factor_left": others},
        actor_user=user,
    )


# --- The second step: UI (session) ----------------------------------------------------


def passkey_authentication_begin(*, request: HttpRequest, user: Any) -> dict[str, Any]:
    """Request options listing ``user``'s passkeys; the state waits in the session."""
    options, state = _authentication_options(request, user)
    request.session[AUTHENTICATION_STATE] = {"state": state, "user": user.pk, "at": time.time()}
    return options


def _authentication_options(request: HttpRequest, user: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not has_passkey(user):
        raise InvalidInput("This account has no passkey: use a code instead", field="webauthn")
    # A second factor after the password: user presence is what is asked of it (as
    # django-otp-webauthn does for a signed-in user); the authenticator may still verify.
    options, state = helper_for(request).authenticate_begin(user=user, require_user_verification=False)
    return options, state


def _verify_assertion(
    request: HttpRequest, user: Any, state: dict[str, Any] | None, data: Any
) -> WebAuthnCredential | None:
    """The user's passkey that signed ``data`` for ``state``'s challenge, else None."""
    if state is None or not isinstance(data, dict):
        return None
    try:
        # A savepoint: the library's save of the new counter failing leaves the sign-in usable.
        with _verifying(), transaction.atomic():
            device = helper_for(request).authenticate_complete(user=user, state=state, data=data)
    except REFUSALS as exc:
        logger.info("passkey assertion refused: %s", type(exc).__name__)
        _audit_counter_gone_back(request, user, state, data)
        return None
    except DatabaseError:
        # Removed (an operator, the owner elsewhere) after the library found it: its save of
        # the counter found no row. An answer from a passkey that is not there; else re-raised.
        if _registered(data):
            raise
        logger.info("passkey assertion refused: the passkey was removed meanwhile")
        return None
    if not device.confirmed or not device.user.is_active:
        return None
    return device


def _registered(data: dict[str, Any]) -> bool:
    raw_id = parse_authentication_credential_json(data).raw_id
    return WebAuthnCredential.objects.filter(
        credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(raw_id)
    ).exists()


def _audit_counter_gone_back(request: HttpRequest, user: Any, state: dict[str, Any], data: dict[str, Any]) -> None:
    """When a refused assertion was right but for its signature counter (not above the stored
    one: WebAuthn's signal of a cloned authenticator), audit ``mfa.passkey_clone_suspected``
    naming the passkey. Once a copy has been used its counter is ahead, so the genuine key is
    the one refused: without this entry nobody could tell that from a wrong answer. Checked by
    verifying the answer again as if no count were stored; a forgery stays an ordinary failure."""
    try:
        credential = parse_authentication_credential_json(data)
        device = WebAuthnCredential.objects.get(
            user=user, credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(credential.raw_id)
        )
        helper = helper_for(request)
        verify_authentication_response(
            credential=credential,
            credential_current_sign_count=0,
            credential_public_key=device.public_key,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=helper.get_relying_party_domain(),
            expected_origin=helper.get_allowed_origins(),
            require_user_verification=state["require_user_verification"],
        )
        received = parse_authenticator_data(credential.response.authenticator_data).sign_count
    except (*REFUSALS, WebAuthnCredential.DoesNotExist):
        return  # refused for another reason
    audit_record(
        action=A.MFA_PASSKEY_CLONE_SUSPECTED,
        tenant=services.home_tenant(user),
        target=user,
        changes={
            "method": "passkey",
            "name": device.name,
            "sign_count": {"stored": device.sign_count, "received": received},
        },
    )


def passkey_authentication_complete(*, request: HttpRequest, user: Any, data: Any) -> WebAuthnCredential | None:
    """The passkey that answered the session's pending challenge for ``user``, or None."""
    state = _take_session_state(request, AUTHENTICATION_STATE, user)
    return _verify_assertion(request, user, state, data)


# --- The second step: JSON API (the login token) --------------------------------------


def login_challenge_passkey_options(*, request: HttpRequest, token: str) -> dict[str, Any]:
    """Request options for the user of a live ``requires2FA`` token. The state is kept on the
    token's row (a JSON client may keep no session); asking again replaces it."""
    user = challenges.login_challenge_user(token=token)
    options, state = _authentication_options(request, user)
    LoginChallenge.objects.filter(digest=challenges.challenge_digest(token), used_at__isnull=True).update(
        webauthn_state={"state": state, "at": time.time()}
    )
    return options


def _take_challenge_state(token: str) -> dict[str, Any] | None:
    """The token's pending passkey challenge, cleared in the same transaction that reads it
    (the row is locked), so each challenge is answered once even by concurrent requests."""
    with transaction.atomic():
        row = (
            LoginChallenge.objects.select_for_update()
            .filter(digest=challenges.challenge_digest(token), used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if row is None or not row.webauthn_state:
            return None
        pending, row.webauthn_state = row.webauthn_state, None
        row.save(update_fields=["webauthn_state"])
    if not isinstance(pending, dict) or time.time() - float(pending.get("at", 0)) > _timeout():
        return None
    state = pending.get("state")
    return state if isinstance(state, dict) else None


def login_challenge_complete_passkey(*, request: HttpRequest, token: str, assertion: Any) -> challenges.ChallengeResult:
    """The JSON second step with a passkey: like a code, a wrong answer counts against the
    token (burnt after too many) and the token is single use."""
    user = challenges.login_challenge_user(token=token)
    device = _verify_assertion(request, user, _take_challenge_state(token), assertion)
    return challenges.login_challenge_settle(token=token, user=user, device=device, refusal=PasskeyRefused())
