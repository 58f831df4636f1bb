from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin


class UserManager(DjangoUserManager["User"]):
    """Users sign in by email; there is no username."""

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:  # type: ignore[override]
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
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class UserSession(models.Model):
    """One signed-in session of a user, so "sign out everywhere" and deactivation can find
    and delete every server-side session (Django's session table is not indexed by user)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tracked_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.ip or '?'}"


class LoginChallenge(models.Model):
    """The second step of a JSON sign-in (``requires2FA``): short-lived, single-use and bound
    to one user. Only the SHA-256 digest of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"2FA challenge for {self.user_id}"


class SSOProtocol(models.TextChoices):
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML 2.0"


class TenantSSOConfig(models.Model):
    """A tenant's identity provider. Saving it (through accounts.sso.sso_config_save) keeps
    the matching allauth SocialApp in step; ``provider_id`` names that app."""

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
    # Routing and provisioning
    email_domain = models.CharField(max_length=253, unique=True, help_text="Verified email domain routed to this IdP")
    default_organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Organization new SSO users join (default: the tenant's first)",
    )
    default_role = models.CharField(max_length=20, default="member", choices=[("admin", "Admin"), ("member", "Member"), ("viewer", "Viewer")])
    require_sso = models.BooleanField(default=False, help_text="Refuse password sign-in for this tenant's users")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "tenant SSO configuration"

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} for {self.tenant}"


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """Single-use recovery codes as a django-otp device, so they verify a session for
    ``is_verified()`` like a TOTP code does. Unlike django-otp's StaticDevice the codes
    are stored as SHA-256 digests (each code carries 120 random bits, so a fast hash
    cannot be brute-forced)."""

    def verify_token(self, token: Any) -> bool:
        from accounts import recovery

        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        digest = recovery.digest(str(token))
        # A conditional UPDATE makes the code single-use even under concurrent requests.
        used = RecoveryCode.objects.filter(device=self, digest=digest, used_at__isnull=True).update(used_at=timezone.now())
        if used:
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self) -> int:
        return 1

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
