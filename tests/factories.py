"""Factories and small builders shared by the whole suite."""

from __future__ import annotations

import hashlib
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client, TestCase

from apikeys import services as key_services
from orgs import services as org_services
from orgs.models import Organization, Tenant

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Users hold their address verified (allauth), as after sign-up and confirmation;
        ``UserFactory(verified=False)`` for one who never confirmed it."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @classmethod
    def _after_postgeneration(cls, instance: Any, create: bool, results: Any = None) -> None:
        if create:
            instance.save()


def make_tenant(
    *, name: str = "Acme", owner: Any = None, plan: str = "free", orgs: int = 1
) -> tuple[Tenant, Any, list[Organization]]:
    owner = owner or UserFactory()
    tenant = org_services.tenant_create(name=name, owner=owner, plan=plan)
    organizations = [org_services.org_create(tenant=tenant, name=f"{name} Org {i + 1}") for i in range(orgs)]
    return tenant, owner, organizations


def add_member(org: Organization, role: str, user: Any = None) -> Any:
    user = user or UserFactory()
    org_services.org_member_set(organization=org, user=user, role=role)
    return user


def make_key(*, user: Any, tenant: Tenant, org: Organization | None, **kwargs: Any) -> tuple[Any, str]:
    kwargs.setdefault("name", "test key")
    issued = key_services.apikey_create(creator=user, tenant=tenant, organization=org, **kwargs)
    return issued.api_key, issued.key


def make_passkey(user: Any, n: int) -> Any:
    """A confirmed passkey row for ``user`` (no ceremony: for tests about factors, not WebAuthn)."""
    from django_otp_webauthn.models import WebAuthnCredential

    credential_id = f"credential-{n}".encode()
    return WebAuthnCredential.objects.create(
        user=user,
        name=f"key {n}",
        confirmed=True,
        credential_id=credential_id,
        credential_id_sha256=hashlib.sha256(credential_id).hexdigest(),
        public_key=b"not-used-here",
        aaguid="00000000-0000-0000-0000-000000000000",
    )


def require_sso(tenant: Tenant, domain: str) -> Any:
    """``domain`` verified by ``tenant``, whose (OpenID Connect) SSO configuration requires SSO."""
    from django.utils import timezone

    from accounts.models import TenantDomain, TenantSSOConfig

    TenantDomain.objects.create(tenant=tenant, domain=domain, verified_at=timezone.now())
    return TenantSSOConfig.objects.create(
        tenant=tenant,
        provider_id=f"tenant-{domain.split('.')[0]}",
        issuer=f"https://idp.{domain}",
        client_id="tater",
        require_sso=True,
        is_active=True,
    )


def oidc_sso(tenant: Tenant, owner: Any, idp: Any, **values: Any) -> Any:
    """``tenant``'s OpenID Connect SSO configuration against the test IdP ``idp``, saved by its
    owner through the service (``values``: the other settings, e.g. ``default_role``)."""
    from accounts import sso

    oidc = {"protocol": "oidc", "issuer": idp.issuer, "client_id": idp.client_id, "client_secret": idp.client_secret}
    return sso.sso_config_save(tenant=tenant, actor=owner, values={**oidc, **values})


def mail_sent() -> Any:
    """Around a request that sends mail: the mail leaves when the request's transaction
    commits (accounts.adapter.send_mail), which a test's own transaction never does; this
    runs those callbacks as the request ends."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def operator_client(settings: Any) -> Client:
    """A signed-in superuser's client for the Django admin (the admin's 2FA gate, which
    ``settings`` switches off here, has its own tests in tests/accounts)."""
    settings.TATER_ADMIN_REQUIRES_OTP = False
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client
