"""Per-tenant single sign-on on top of allauth's ``openid_connect`` and ``saml`` providers.

A ``TenantSSOConfig`` owns one allauth ``SocialApp`` whose ``provider_id`` is
``tenant-<hex>``: allauth identifies SSO users by (that provider id, the IdP's subject),
i.e. by issuer + subject, never by email.
"""

from __future__ import annotations

import uuid
from typing import Any

from allauth.socialaccount.models import SocialApp
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from accounts.models import SSOProtocol, TenantSSOConfig
from audit import registry as A
from audit.services import audit_record
from orgs import roles
from orgs.models import Organization, OrgMembership, TenantMembership
from tater.exceptions import InvalidInput, NotPermitted

PROVIDER_BY_PROTOCOL = {SSOProtocol.OIDC: "openid_connect", SSOProtocol.SAML: "saml"}
# Where common IdPs put the email (Okta/Google custom "email", OID mail, Entra/ADFS claim).
SAML_EMAIL_ATTRIBUTES = [
    "email",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
]
SAML_EMAIL_VERIFIED_ATTRIBUTES = ["email_verified", "http://schemas.auth0.com/email_verified"]
EDITABLE = (
    "protocol", "issuer", "client_id", "client_secret", "idp_entity_id", "idp_sso_url", "idp_x509_cert",
    "email_domain", "default_organization", "default_role", "require_sso", "is_active",
)


def email_domain(email: str) -> str:
    return (email or "").rpartition("@")[2].strip().lower()


def config_for_email(email: str) -> TenantSSOConfig | None:
    domain = email_domain(email)
    if not domain:
        return None
    return TenantSSOConfig.objects.select_related("tenant").filter(email_domain=domain, is_active=True).first()


def config_for_provider(provider_id: str) -> TenantSSOConfig | None:
    return TenantSSOConfig.objects.select_related("tenant").filter(provider_id=provider_id, is_active=True).first()


def sso_required(*, email: str, user: Any | None) -> TenantSSOConfig | None:
    """The config that forbids password sign-in for this email/user, if any: the email's
    domain belongs to a tenant requiring SSO, or the user is a member of such a tenant.
    Superusers keep password sign-in as the break-glass path."""
    if user is not None and user.is_superuser:
        return None
    config = config_for_email(email)
    if config is not None and config.require_sso:
        return config
    if user is None:
        return None
    tenant_ids = set(TenantMembership.objects.filter(user=user).values_list("tenant_id", flat=True))
    tenant_ids |= set(OrgMembership.objects.filter(user=user).values_list("organization__tenant_id", flat=True))
    return (
        TenantSSOConfig.objects.select_related("tenant")
        .filter(tenant_id__in=tenant_ids, is_active=True)
        .filter(Q(require_sso=True) | Q(tenant__require_sso=True))
        .first()
    )


def login_url(config: TenantSSOConfig) -> str:
    if config.protocol == SSOProtocol.SAML:
        return reverse("saml_login", kwargs={"organization_slug": config.provider_id})
    return reverse("openid_connect_login", kwargs={"provider_id": config.provider_id})


def _app_settings(config: TenantSSOConfig) -> dict[str, Any]:
    if config.protocol == SSOProtocol.OIDC:
        return {"server_url": config.issuer.rstrip("/"), "oauth_pkce_enabled": True}
    return {
        "idp": {
            "entity_id": config.idp_entity_id,
            "sso_url": config.idp_sso_url,
            "x509cert": config.idp_x509_cert,
        },
        # No "uid" mapping: the identity is the signed assertion's NameID (allauth falls
        # back to it), scoped by the provider id that stands for this IdP's entity id.
        "attribute_mapping": {"email": SAML_EMAIL_ATTRIBUTES, "email_verified": SAML_EMAIL_VERIFIED_ATTRIBUTES},
        "use_nameid_for_email": False,
        "advanced": {
            # python3-saml strict mode: signature, audience (our SP entity id), issuer,
            # Destination/Recipient, NotBefore/NotOnOrAfter and the schema are checked.
            "strict": True,
            "want_assertion_signed": True,
            "want_message_signed": False,
            "want_name_id": True,
            "reject_deprecated_algorithm": True,
            # allauth reads this from "advanced"; unsolicited (IdP-initiated) responses are
            # refused (accounts.saml_replay refuses them too, whatever this says).
            "reject_idp_initiated_sso": True,
        },
    }


def _validate(config: TenantSSOConfig) -> None:
    config.email_domain = config.email_domain.strip().lower().lstrip("@")
    if "." not in config.email_domain:
        raise InvalidInput("Enter the email domain your users sign in with, e.g. example.com", field="email_domain")
    if config.protocol == SSOProtocol.OIDC and not (config.issuer and config.client_id):
        raise InvalidInput("OpenID Connect needs the issuer URL and a client id", field="issuer")
    if config.protocol == SSOProtocol.SAML and not (config.idp_entity_id and config.idp_sso_url and config.idp_x509_cert):
        raise InvalidInput("SAML needs the IdP entity id, its SSO URL and its signing certificate", field="idp_entity_id")
    if config.default_role not in roles.OrgRole.values:
        raise InvalidInput(f"Default role must be one of {', '.join(roles.OrgRole.values)}", field="default_role")
    if config.default_organization_id and config.default_organization.tenant_id != config.tenant_id:
        raise InvalidInput("The default organization must belong to this tenant", field="default_organization")
    clash = TenantSSOConfig.objects.filter(email_domain=config.email_domain).exclude(pk=config.pk).exists()
    if clash:
        raise InvalidInput("Another tenant already routes this email domain", field="email_domain")


def sync_social_app(config: TenantSSOConfig) -> SocialApp:
    """Create or update the allauth SocialApp behind a config (the admin calls this too)."""
    provider = PROVIDER_BY_PROTOCOL[SSOProtocol(config.protocol)]
    SocialApp.objects.filter(provider_id=config.provider_id).exclude(provider=provider).delete()
    app, _ = SocialApp.objects.update_or_create(
        provider_id=config.provider_id,
        defaults={
            "provider": provider,
            "name": f"{config.tenant.name} SSO"[:40],
            "client_id": config.client_id if config.protocol == SSOProtocol.OIDC else config.provider_id,
            "secret": config.client_secret if config.protocol == SSOProtocol.OIDC else "",
            "settings": _app_settings(config),
        },
    )
    return app


@transaction.atomic
def sso_config_save(*, tenant: Any, actor: Any | None, values: dict[str, Any]) -> TenantSSOConfig:
    """Create or change a tenant's SSO configuration (tenant owners only)."""
    if actor is not None and not TenantMembership.objects.filter(tenant=tenant, user=actor, role=roles.TenantRole.OWNER).exists():
        raise NotPermitted("Only tenant owners can configure single sign-on")
    config = TenantSSOConfig.objects.select_for_update().filter(tenant=tenant).first()
    created = config is None
    if config is None:
        config = TenantSSOConfig(tenant=tenant, provider_id=f"tenant-{uuid.uuid4().hex[:16]}")
    before = {name: _plain(getattr(config, name)) for name in EDITABLE}
    for name, value in values.items():
        if name not in EDITABLE:
            raise InvalidInput(f"Unknown SSO setting {name!r}", field=name)
        if name == "client_secret" and not value and not created:
            continue  # an empty secret field keeps the stored secret
        setattr(config, name, value)
    _validate(config)
    if not created and (before["issuer"] != config.issuer or before["idp_entity_id"] != config.idp_entity_id):
        # Identities are (provider id, subject): a different IdP must never inherit the
        # old one's subjects, so it gets a fresh provider id.
        SocialApp.objects.filter(provider_id=config.provider_id).delete()
        config.provider_id = f"tenant-{uuid.uuid4().hex[:16]}"
    config.save()
    sync_social_app(config)
    after = {name: _plain(getattr(config, name)) for name in EDITABLE}
    changes = {
        name: {"from": before[name], "to": after[name]}
        for name in EDITABLE
        if before[name] != after[name] and name != "client_secret"
    }
    if before["client_secret"] != after["client_secret"]:
        changes["client_secret_changed"] = True  # never the value
    audit_record(action=A.TENANT_UPDATED, tenant=tenant, target=tenant, changes={"sso": changes}, actor_user=actor)
    return config


def _plain(value: Any) -> Any:
    if isinstance(value, Organization):
        return value.public_id
    return value


def provisioning_org(config: TenantSSOConfig) -> Organization | None:
    if config.default_organization_id:
        return config.default_organization
    return Organization.objects.filter(tenant=config.tenant).order_by("pk").first()
