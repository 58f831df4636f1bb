"""JSON sign-in for API clients (TigerTrust flow) and credential exchange (Taffy flow).

The second step takes a code or a passkey: ``auth/webauthn/options`` answers a challenge for
the login token's user, ``auth/verify-2fa`` takes the token with the passkey's assertion.

The sign-in endpoints take no session and no key (``authentication_classes = []``), so
scripts can call them without a CSRF token; session-authenticated calls (logout, me)
keep DRF's CSRF check.
"""

from __future__ import annotations

from typing import Any, cast

from allauth.account.internal.flows.login import record_authentication
from django.contrib.auth import get_user_model, login
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import challenges, mfa, passkeys, services, sso
from accounts.api import serializers as s
from accounts.app_settings import app_settings
from accounts.idp_tokens import IdPIdentity
from accounts.middleware import requires_2fa
from accounts.models import LoginChallenge
from accounts.sign_in_binding import still_current_locked
from apikeys import services as key_services
from apikeys.api.serializers import issued_key_data
from apikeys.principal import KeyPrincipal
from orgs import access as access_mod
from orgs import email_owners, policy
from orgs.permissions import ScopedPermission
from orgs.selectors import actor_for, orgs_reachable_by_user
from tater import context, lockout
from tater.api.authentication import SessionAuthentication
from tater.api.errors import ApiError, Forbidden, Unauthorized, ValidationFailed
from tater.api.schema import error_response
from tater.api.views import TaterAPIView
from tater.client_ip import client_ip
from tater.emails import normalize_email

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


def invalid_credentials() -> Unauthorized:
    return Unauthorized("Invalid email or password", code="INVALID_CREDENTIALS")


def _ip(request: Request) -> str:
    return client_ip(request._request)


def throttle(request: Request, group: str) -> None:
    """Per-IP django-ratelimit on the credential endpoints (before any password work)."""
    limited = is_ratelimited(
        request._request,
        group=f"accounts.api.{group}",
        key=lambda g, r: lockout.client_bucket(client_ip(r)),  # an IPv6 client per /64, as the lockout
        rate=app_settings.AUTH_FORM_RATE,
        increment=True,
    )
    if limited:
        raise ApiError(
            "Too many attempts, retry in 60 seconds",
            code="RATE_LIMITED",
            status_code=429,
            headers={"Retry-After": "60"},
        )


def _failed(request: Request, email: str, *, kind: str, method: str | None = None, count_client: bool = True) -> None:
    """Audited (``user.login_failed``, ``method`` defaulting to ``kind``) and counted by the lockout."""
    user_login_failed.send(
        sender=__name__, credentials={"email": email, "method": method or kind}, request=request._request
    )
    lockout.register_failure(ip=_ip(request), kind=kind, account=email or None, count_client=count_client)


def sso_required_refusal() -> Forbidden:
    return Forbidden("Your organization requires single sign-on for this account", code="SSO_REQUIRED")


def check_password(request: Request, email: str, password: str) -> Any:
    """The active user with this email and password, or 401 INVALID_CREDENTIALS.

    The address is any the sign-in form accepts (``orgs.email_owners.account_holding``): the
    account's own or another of its addresses, in any spelling (SPEC §8); failures are
    counted against the account and audited under its stored address, whichever reached it.

    An unknown email costs one password hash like a wrong password does, and gets the same
    answer, so neither the message nor the timing tells which accounts exist.

    An address whose tenant requires SSO gets 403 SSO_REQUIRED without its password being
    checked, as the sign-in form sends it to the IdP (accounts.views.LoginView): the answer
    must not tell whether a password is right. A member the requirement governs reaching the
    login through another of their addresses (a personal one) gets the wrong password's
    answer, its password unchecked, as the form does (``sso.sso_only_elsewhere``). An account
    of such a domain the requirement exempts (a superuser, an account outside the tenant) is
    checked, but a failure or a lockout is answered like every other address of the domain,
    and counted against the account alone (as the form does), so probing tells nobody that
    such an account exists."""
    email = normalize_email(email)  # one account, one lockout count, whatever the spelling
    user = email_owners.user_by_email(email)
    if sso.sso_required(email=email, user=user) is not None:
        make_password(password)  # as long as a checked password: the time tells nothing either
        raise sso_required_refusal()
    account = user if user is not None else email_owners.account_holding(email)
    if account is not None and sso.sso_only_elsewhere(email, account):
        lockout.check_account(account.email)
        make_password(password)
        _failed(request, account.email, kind="password")
        raise invalid_credentials()
    exempt = sso.sso_required(email=email, user=None) is not None
    try:
        name = account.email if account is not None else email
        user = _password_checked(request, name, password, account, count_client=not exempt)
    except ApiError as exc:
        if exempt and exc.status_code in (401, 429):
            raise sso_required_refusal() from None
        raise
    ctx = context.current()
    ctx.user_id, ctx.extra["user_email"] = user.pk, user.email
    return user


def _password_checked(request: Request, email: str, password: str, user: Any, *, count_client: bool) -> Any:
    lockout.check_account(email)
    if user is None:
        make_password(password)  # equalise timing with check_password below
        ok = False
    else:
        ok = user.check_password(password) and user.is_active
    if user is None or not ok:
        _failed(request, email, kind="password", count_client=count_client)
        raise invalid_credentials()
    return user


def otp_throttled(exc: services.OTPThrottled) -> ApiError:
    """No code was checked (django-otp throttles the device after wrong ones): not a failed
    sign-in, so neither audited nor counted by the lockout; ``Retry-After`` says when."""
    return ApiError(exc.message, code="INVALID_OTP", status_code=401, headers={"Retry-After": str(exc.wait_seconds)})


def _code_wanted(user: Any) -> str:
    """What to send: a passkey cannot be presented here, so an account with passkeys only is
    told to make recovery codes (docs/accounts.md, credential exchange)."""
    if not services.has_code_factor(user):
        return (
            "This account's only second factor is a passkey, which a script cannot present: "
            "generate recovery codes under Account → Security and send one as the code"
        )
    return "This account uses two-factor authentication: send the code (authenticator app or recovery code)"


def check_code(request: Request, user: Any, code: str | None) -> Any:
    if not code:
        raise ApiError(
            _code_wanted(user),
            code="INVALID_OTP",
            status_code=401,
            details={"code_required": True},  # a script asks the person; not a wrong code
        )
    try:
        device = services.verify_second_factor(user=user, code=code)
    except services.OTPThrottled as exc:
        raise otp_throttled(exc) from None
    if device is None:
        _failed(request, user.email, kind="otp")
        raise ApiError(
            "Invalid or already used verification code",
            code="INVALID_OTP",
            status_code=401,
            details={"code_required": False},
        )
    mfa.second_factor_verified(user=user, device=device, via="credential_exchange")  # spent, whatever follows
    return device


def _sign_in(request: Request, user: Any, device: Any | None, *, stamp: str | None = None) -> Response:
    """``stamp``: a second step's, compared again under lock as its session is made
    (accounts.sign_in_binding.still_current_locked): a factor removed or "sign out everywhere"
    meanwhile refuses it (401) instead of missing the session made just after."""
    raw: HttpRequest = request._request
    if device is not None:
        user.otp_device = device  # django-otp marks the new session verified
    with transaction.atomic():  # the session, last_login and the user.login entry: one unit
        if stamp is not None and not still_current_locked(user, stamp):
            raise Unauthorized(challenges.InvalidChallenge().message)
        login(raw, user, backend=LOGIN_BACKEND)
        # Recorded as allauth records its sign-ins: the session's sign-in is a password one
        # (accounts.sso.session_barred_tenants reads it), not whatever the session held before.
        record_authentication(raw, user, method="password")
    # The answer is what /me answers this session: not the tenants it may not reach.
    barred = access_mod.session_bars(raw, user)
    body = {
        "requires2FA": False,
        "user": s.me_data(
            user=user,
            access=_access_for(user, barred),
            authentication="session",
            verified=device is not None,
            has_2fa=services.has_2fa(user),
            barred=barred,
        ),
    }
    return Response(body)


def _access_for(user: Any, barred: dict[int, str]) -> Any:
    try:
        return access_mod.for_user(
            user, hint=None, tenant_hint_value=None, session_org=None, org_required=False, barred=barred
        )
    except ApiError:
        return None


class LoginView(TaterAPIView):
    """``POST /api/v1/auth/login`` {email, password} → session, or ``requires2FA`` + token."""

    query_fields = {"POST": frozenset()}  # the org hints only (a 400 names any other)
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        throttle(request, "login")
        body = s.LoginInput(data=request.data)
        body.is_valid(raise_exception=True)
        user = check_password(request, body.validated_data["email"], body.validated_data["password"])
        if services.has_2fa(user):
            token = challenges.login_challenge_create(user=user)
            return Response(
                {
                    "requires2FA": True,
                    "token": token,
                    "expires_in": app_settings.LOGIN_CHALLENGE_TTL,
                    "methods": services.second_factor_methods(user),
                }
            )
        return _sign_in(request, user, None)


def _challenge_user(request: Request, token: str) -> Any:
    """The live login token's user (checked against the lockout), else 401 counted as a failure."""
    try:
        user = challenges.login_challenge_user(token=token)
    except challenges.InvalidChallenge as exc:
        lockout.register_failure(ip=_ip(request), kind="otp")
        raise Unauthorized(exc.message) from None
    lockout.check_account(user.email)
    return user


class VerifyTwoFactorView(TaterAPIView):
    """``POST /api/v1/auth/verify-2fa`` {token, code} or {token, webauthn} → session."""

    query_fields = {"POST": frozenset()}  # the org hints only (a 400 names any other)
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        throttle(request, "verify_2fa")
        body = s.VerifyInput(data=request.data)
        body.is_valid(raise_exception=True)
        token = body.validated_data["token"]
        user = _challenge_user(request, token)
        assertion = body.validated_data.get("webauthn")
        try:
            if assertion is not None:
                result = passkeys.login_challenge_complete_passkey(
                    request=request._request, token=token, assertion=assertion
                )
            else:
                result = challenges.login_challenge_complete(token=token, code=body.validated_data["code"])
        except services.OTPThrottled as exc:
            raise otp_throttled(exc) from None
        except services.InvalidOTP as exc:
            _failed(request, user.email, kind="otp", method="otp" if assertion is None else "passkey")
            raise ApiError(exc.message, code="INVALID_OTP", status_code=401) from None
        except challenges.InvalidChallenge as exc:
            raise Unauthorized(exc.message) from None
        stamp = LoginChallenge.objects.filter(digest=challenges.challenge_digest(token)).values_list(
            "password_stamp", flat=True
        )
        return _sign_in(request, result.user, result.device, stamp=stamp.first() or "")


@extend_schema(
    request=s.WebAuthnOptionsInput,
    responses={
        200: s.WebAuthnOptionsOutput,
        400: error_response(400),
        401: error_response(401),
        429: error_response(429),
    },
)
class WebAuthnOptionsView(TaterAPIView):
    """``POST /api/v1/auth/webauthn/options`` {token} → {publicKey}: a passkey challenge for
    the user of a ``requires2FA`` token. Answer it with ``auth/verify-2fa`` {token, webauthn}.
    Asking again replaces the challenge; each is answered once. (POST, not GET: the token is
    a credential and query strings end up in logs.)"""

    query_fields = {"POST": frozenset()}  # the org hints only (a 400 names any other)
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        throttle(request, "webauthn_options")
        body = s.WebAuthnOptionsInput(data=request.data)
        body.is_valid(raise_exception=True)
        token = body.validated_data["token"]
        _challenge_user(request, token)
        try:
            options = passkeys.login_challenge_passkey_options(request=request._request, token=token)
        except challenges.InvalidChallenge as exc:
            raise Unauthorized(exc.message) from None
        return Response({"publicKey": options})  # no passkey: 400 VALIDATION_ERROR (webauthn)


class LogoutView(TaterAPIView):
    """``POST /api/v1/auth/logout``: ends the session on the server (CSRF-protected)."""

    query_fields = {"POST": frozenset()}  # the org hints only (a 400 names any other)
    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        if not (request.user and request.user.is_authenticated):
            raise Unauthorized("Not signed in")
        from django.contrib.auth import logout

        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MePermission(ScopedPermission):
    """``/me`` answers a signed-in user who belongs to no tenant yet (nothing to resolve)
    instead of refusing them; keys and explicit org hints keep the usual checks."""

    def has_permission(self, request: Request, view: Any) -> bool:
        try:
            return super().has_permission(request, view)
        except Forbidden as exc:
            session_user = not isinstance(request.auth, KeyPrincipal) and request.user and request.user.is_authenticated
            if (
                exc.code == "WORKSPACE_ACCESS_DENIED"
                and session_user
                and access_mod.org_hint(request) is None
                and access_mod.tenant_hint(request) is None
            ):
                request.access = None  # type: ignore[attr-defined]
                return True
            raise


class MeView(TaterAPIView):
    """``GET /api/v1/me``: who is calling, their tenants and orgs with roles, the current
    org and the 2FA status. Works with a session or an API key."""

    query_fields = {"GET": frozenset()}  # the org hints only (a 400 names any other)
    required_scopes = {"GET": None}
    allowed_key_types = {"GET": {"standard", "agent"}}  # public keys: business data only
    org_required = False

    permission_classes = [MePermission]

    def get(self, request: Request) -> Response:
        access = self.access(request)
        via_key = access is not None and access.via_key
        # MePermission admits a key or a signed-in user: without a key, request.user has a pk.
        user_pk = access.user_id if access is not None else cast(int, request.user.pk)
        user = get_user_model().objects.get(pk=user_pk)
        raw = request._request
        # django-otp's OTPMiddleware adds is_verified() to the request's user.
        is_verified = getattr(raw.user, "is_verified", None) if not via_key else None
        verified = bool(is_verified and is_verified())
        how = "api_key" if via_key else "idp_token" if isinstance(request.auth, IdPIdentity) else "session"
        barred = access_mod.session_bars(request, user) if how == "session" else {}
        data = s.me_data(
            user=user,
            access=access,
            authentication=how,
            verified=verified,
            has_2fa=services.has_2fa(user),
            barred=barred,
        )
        if not via_key:
            # A token meets its own tenant's policy; a session every tenant's it reaches.
            token_tenant = request.auth.tenant_pk if isinstance(request.auth, IdPIdentity) else None
            data["mfa_required"] = not data["two_factor"]["enabled"] and requires_2fa(
                user, tenant_pk=token_tenant, excluding=barred
            )
        return Response(data)


class TokenExchangeView(TaterAPIView):
    """``POST /api/v1/auth/token``: email + password (+ code with 2FA) → a new API key,
    shown once. Who may do it is the tenant's ``token_exchange_policy`` (owners by default)."""

    query_fields = {"POST": frozenset()}  # the org hints only (a 400 names any other)
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        throttle(request, "token")
        body = s.TokenExchangeInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = check_password(request, data["email"], data["password"])
        if services.has_2fa(user):
            check_code(request, user, data.get("code"))
        elif requires_2fa(user):
            raise Forbidden(
                "Your tenant requires two-factor authentication: enrol an authenticator first", code="MFA_REQUIRED"
            )
        org = self._organization(request, user, (data.get("organizationId") or "").strip())
        tenant = org.tenant
        actor = actor_for(user=user, tenant=tenant)
        decision = policy.can_exchange_credentials(actor, org_pk=org.pk, exchange_policy=tenant.token_exchange_policy)
        if not decision:
            raise Forbidden(decision.reason)
        scopes = data.get("scopes")  # omitted: the user's own permissions in the org
        name = (data.get("name") or "").strip() or f"Credential exchange {timezone.now():%Y-%m-%d %H:%M}"
        # Left out under a tenant's maximum key lifetime: the service gives the longest it allows.
        expires_at = data.get("expires_at")
        # The service caps the scopes at the user's role (DomainErrors become catalog errors).
        issued = key_services.apikey_create(
            creator=actor, tenant=tenant, organization=org, name=name, scopes=scopes, expires_at=expires_at
        )
        return Response(issued_key_data(issued.api_key, issued.key), status=status.HTTP_201_CREATED)

    @staticmethod
    def _organization(request: Request, user: Any, body_hint: str) -> Any:
        """The org the key is bound to: named in the body, or as every other call names it
        (``organizationId`` / ``X-Workspace-ID``, what ``AMBIGUOUS_ORG`` asks for; SPEC §4),
        among the tenant ``tenantId`` names; else the user's only org."""
        hint = access_mod.org_hint(request)
        if body_hint and hint and body_hint != hint:
            raise ValidationFailed(
                "The body's organizationId and the request's organization hint name different organizations",
                details={"fields": {"organizationId": ["Does not match the organizationId/X-Workspace-ID hint"]}},
            )
        hint = body_hint or hint
        reachable = orgs_reachable_by_user(user=user)
        tenant = access_mod.tenant_hint(request)
        if tenant:
            reachable = reachable.filter(tenant__public_id=tenant)
            if not reachable.exists():  # as key endpoints answer a foreign tenantId (SPEC §4)
                raise Forbidden(f"No access to tenant {tenant!r}", code="WORKSPACE_ACCESS_DENIED")
        if hint:
            org = reachable.filter(public_id=hint).first()
            if org is None:
                raise access_mod.denied(hint)
            return org
        candidates = list(reachable[:2])
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise access_mod.no_org()
        raise access_mod.ambiguous(in_body=True)
