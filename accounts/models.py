from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin

from tater.emails import normalize_email


def new_user_id() -> str:
    return f"usr-{uuid.uuid4()}"


class UserManager(DjangoUserManager["User"]):
    """Users sign in by email; there is no username."""

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:  # type: ignore[override]
        """``manage.py createsuperuser``'s (nothing else makes superusers but the admin, which
        audits its own): audited ``user.created`` in the same transaction (SPEC §7)."""
        from audit import registry as A
        from audit.services import audit_record

        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        with transaction.atomic(using=self._db):
            user = self._create_user(email, password, **extra)
            granted = {"email": user.email, "is_staff": user.is_staff, "is_superuser": user.is_superuser}
            audit_record(action=A.USER_CREATED, tenant=None, target=user, changes=granted)  # no tenant yet
        return user


class User(AbstractUser):
    # The id the API shows and takes (``usr-<uuid>``, SPEC §1: never the sequential pk).
    public_id = models.CharField(max_length=48, unique=True, default=new_user_id, editable=False)
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    # The comparison key of ``email`` (tater.emails.normalize_email), kept in step on every
    # save. Accounts are looked up by it, and its uniqueness means no two accounts share an
    # address under any spelling (``owner@x.test`` / ``owner@x.teſt``).
    email_canonical = models.CharField(max_length=512, unique=True, editable=False)
    # Where the person's account events (sign-ins, password and 2FA changes) are filed: the
    # tenant of their first membership, set once (accounts.receivers), never moved by a
    # later membership elsewhere or a reorganisation at home (accounts.services.home_tenant).
    home_tenant = models.ForeignKey(
        "orgs.Tenant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        # Forms (the admin's) only check ``email`` for exact duplicates: refuse a look-alike.
        # An account's additional addresses count too (orgs.email_owners).
        from orgs.email_owners import held_by_another

        if held_by_another(self.email, self):
            raise ValidationError({"email": "A user with this email address already exists."})

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_canonical = normalize_email(self.email)
        update_fields: Iterable[str] | None = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_canonical"}
        super().save(*args, **kwargs)


def _live_session() -> models.QuerySet[Session]:
    return Session.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now())


class UserSessionQuerySet(models.QuerySet["UserSession"]):
    """A row outlives its server-side session when that expires, Django's ``clearsessions``
    removes it or ``manage.py changepassword`` ends it: such a row is no session to list,
    count or end."""

    def signed_in(self) -> UserSessionQuerySet:
        return self.filter(Exists(_live_session()))

    def ended(self) -> UserSessionQuerySet:
        return self.filter(~Exists(_live_session()))

    def forget_ended(self) -> None:
        """Delete these rows whose session ended, but those another writer holds (a sign-out
        deleting them too): never waits for one, so never deadlocks with one."""
        with transaction.atomic():
            stale = list(self.ended().select_for_update(skip_locked=True).values_list("pk", flat=True))
            UserSession.objects.filter(pk__in=stale).delete()


class UserSession(models.Model):
    """One signed-in session of a user, so "sign out everywhere" and deactivation can find
    and delete every server-side session (Django's session table is not indexed by user)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.ip or '?'}"


class SignOutGeneration(models.Model):
    """How many times every sign-in of an account was ended ("sign out everywhere", a password
    reset, deactivation): a sign-in waiting for its second factor remembers the number it began
    under (accounts.sign_in_binding) and no longer completes once it moved. A row of its own,
    moved by an UPDATE, so no save of a user object read earlier can move it back."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"sign-out generation {self.number} of {self.user_id}"


class LoginChallenge(models.Model):
    """The second step of a JSON sign-in (``requires2FA``): short-lived, single-use and bound
    to one user. Only the SHA-256 digest of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    # The account's password and sign-out generation when the token was issued
    # (accounts.sign_in_binding): a token from before a password change or "sign out
    # everywhere" is refused. Blank (tokens from before the column): refused.
    password_stamp = models.CharField(max_length=128, blank=True, default="")
    # The passkey challenge issued for this token (auth/webauthn/options): py_webauthn's state
    # and when it was issued. Cleared by the answer, so each challenge is answered once.
    webauthn_state = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"2FA challenge for {self.user_id}"


class SSOProtocol(models.TextChoices):
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML 2.0"


class TenantSSOConfig(models.Model):
    """A tenant's identity provider. Saving it (through accounts.sso.sso_config_save) keeps
    the matching allauth SocialApp in step; ``provider_id`` names that app."""

    # The fields a tenant owner sets (the settings form, the admin, accounts.sso's service).
    EDITABLE = (
        "protocol",
        "issuer",
        "client_id",
        "client_secret",
        "idp_entity_id",
        "idp_sso_url",
        "idp_x509_cert",
        "default_organization",
        "default_role",
        "require_sso",
        "is_active",
    )

    tenant = models.OneToOneField("orgs.Tenant", on_delete=models.CASCADE, related_name="sso_config")
    protocol = models.CharField(max_length=10, choices=SSOProtocol.choices, default=SSOProtocol.OIDC)
    provider_id = models.SlugField(max_length=60, unique=True, editable=False)
    # OpenID Connect
    issuer = models.URLField(blank=True, help_text="OIDC issuer URL (its /.well-known/openid-configuration is read)")
    client_id = models.CharField(max_length=255, blank=True)
    client_secret = models.CharField(max_length=500, blank=True)
    # SAML
    idp_entity_id = models.CharField(max_length=500, blank=True)
    idp_sso_url = models.URLField(blank=True)
    idp_x509_cert = models.TextField(blank=True, help_text="The IdP's signing certificate (PEM)")
    # Provisioning (routing is by the tenant's verified domains, see TenantDomain)
    default_organization = models.ForeignKey(
        "orgs.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Organization new SSO users join (default: the tenant's first)",
    )
    default_role = models.CharField(
        max_length=20, default="member", choices=[("admin", "Admin"), ("member", "Member"), ("viewer", "Viewer")]
    )
    require_sso = models.BooleanField(
        default=False,
        help_text="Refuse password sign-in for the tenant's members in its verified domains",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tenant SSO configuration"

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} for {self.tenant}"


# Domain verification: TXT record ``_tater-challenge.<domain>`` = ``tater-domain-verification=<token>``.
CHALLENGE_LABEL = "_tater-challenge"
RECORD_PREFIX = "tater-domain-verification="


def new_domain_token() -> str:
    return secrets.token_urlsafe(24)


class TenantDomain(models.Model):
    """An email domain a tenant claims for its SSO. It routes sign-ins, requires SSO, links
    and provisions accounts only once ``verified_at`` is set, i.e. once the tenant proved it
    controls the domain's DNS by publishing ``record_value`` as a TXT record at
    ``record_name`` (accounts.domains.domain_verify). Several tenants may claim a domain
    (so a squatter cannot block its owner); one at most verifies it."""

    tenant = models.ForeignKey("orgs.Tenant", on_delete=models.CASCADE, related_name="sso_domains")
    domain = models.CharField(max_length=253, help_text="Lower-case ASCII (IDNA) form, e.g. example.com")
    token = models.CharField(max_length=64, default=new_domain_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "domain"], name="tenant_domain_unique"),
            # A domain is verified by one tenant at most (also under concurrent verifications).
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="tenant_domain_verified_once",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def record_name(self) -> str:
        """Where the TXT record goes: ``_tater-challenge.<domain>``."""
        return f"{CHALLENGE_LABEL}.{self.domain}"

    @property
    def record_value(self) -> str:
        """The TXT record's value: ``tater-domain-verification=<token>``."""
        return f"{RECORD_PREFIX}{self.token}"


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes as a django-otp device, so they verify a session for
    ``is_verified()`` like a TOTP code does. Unlike django-otp's StaticDevice the codes
    are stored as SHA-256 digests (each code carries 120 random bits, so a fast hash
    cannot be brute-forced)."""

    # django_otp is untyped, so django-stubs cannot find the manager Device gives this model
    # (a DeviceManager) for User's reverse relation: declare it.
    _default_manager: ClassVar[models.Manager[RecoveryCodeDevice]]

    def verify_token(self, token: Any) -> bool:
        from accounts import recovery

        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = recovery.digest(str(token))
        # A conditional UPDATE makes the code single-use even under concurrent requests.
        used = RecoveryCode.objects.filter(device=self, digest=digest, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if used:
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self) -> int:
        return 1

    @classmethod
    def delete_for(cls, user: Any) -> int:
        """Delete ``user``'s recovery codes, their device rows locked first: a code's check
        (django-otp) locks the device, then marks the code used, while a plain delete removes
        the codes, then the device; at the same instant each waited for the other."""
        with transaction.atomic():
            list(cls.objects.select_for_update().filter(user=user).values_list("pk"))
            deleted, _ = cls.objects.filter(user=user).delete()
        return deleted

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "digest"], name="recovery_code_unique_per_device")]

    def __str__(self) -> str:
        return f"recovery code of device {self.device_id}"
