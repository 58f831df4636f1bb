"""Per-tenant single sign-on on top of allauth's ``openid_connect`` and ``saml`` providers.

A ``TenantSSOConfig`` owns one allauth ``SocialApp`` whose ``provider_id`` is
``tenant-<hex>``: allauth identifies SSO users by (that provider id, the IdP's subject),
i.e. by issuer + subject, never by email.

Which emails a tenant's IdP speaks for is decided by the tenant's *verified* domains
(accounts.domains): only for an email in a domain the tenant proved through DNS does the
configuration route sign-ins (``config_for_email``), require SSO (``sso_required``), link
existing accounts or provision new ones (accounts.adapter). A domain typed in but not
verified does none of these.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from allauth.socialaccount.models import SocialAccount, SocialApp
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from accounts import domains, sso_certificate
from accounts.identity_tenant import identity_tenant
from accounts.models import SSOProtocol, TenantSSOConfig
from audit import registry as A
from audit.services import audit_record
from orgs import roles
from orgs.models import Organization, OrgMembership, TenantMembership
from tater import outbound
from tater.exceptions import InvalidInput, NotPermitted

PROVIDER_ID_PREFIX = "tenant-"  # provider ids of tenant SSO apps: tenant-<hex>
PROVIDER_BY_PROTOCOL = {SSOProtocol.OIDC: "openid_connect", SSOProtocol.SAML: "saml"}
# Where common IdPs put the email (Okta/Google custom "email", OID mail, Entra/ADFS claim).
SAML_EMAIL_ATTRIBUTES = [
    "email",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
]
SAML_EMAIL_VERIFIED_ATTRIBUTES = ["email_verified", "http://schemas.auth0.com/email_verified"]
EDITABLE = TenantSSOConfig.EDITABLE  # what the owner's form, the admin and the API may set
# What each protocol cannot do without, by field: the error shown beside each one missing.
OIDC_NEEDS = {"issuer": "OpenID Connect needs the issuer URL.", "client_id": "OpenID Connect needs a client ID."}
SAML_NEEDS = {
    "idp_entity_id": "SAML needs the IdP entity ID.",
    "idp_sso_url": "SAML needs the IdP single sign-on URL.",
    "idp_x509_cert": "SAML needs the IdP signing certificate.",
}


def config_for_email(email: str) -> TenantSSOConfig | None:
    """The active SSO configuration of the tenant that verified this email's domain."""
    claim = domains.verified_domain(domains.email_domain(email))
    if claim is None:
        return None
    return TenantSSOConfig.objects.select_related("tenant").filter(tenant_id=claim.tenant_id, is_active=True).first()


def link_offer(user: Any) -> TenantSSOConfig | None:
    """The tenant IdP a signed-in user may link to their account ("Link single sign-on" on
    Account security, the connections page): the one of the tenant that verified their email's
    domain, until they have an identity there. No other tenant's IdP is ever offered (or named)."""
    config = config_for_email(user.email)
    if config is None or SocialAccount.objects.filter(user=user, provider=config.provider_id).exists():
        return None
    return config


def provider_id_for(tenant: Any) -> str:
    """The provider id of the tenant's SSO connection, in every address the owner registers at
    the IdP (ACS URL, SP entity id, metadata URL, OIDC redirect URI): known before the first
    save, and kept across saves and IdP changes, so what was pasted at the IdP keeps working.
    Derived from the tenant's public id, never revealing it."""
    digest = hashlib.sha256(f"tater-sso-connection:{tenant.public_id}".encode()).hexdigest()
    return f"{PROVIDER_ID_PREFIX}{digest[:16]}"


def _unlink_identities(provider_id: str) -> int:
    """Identities are (provider id, subject): the identities of the IdP this connection spoke to
    until now move to a retired provider id, which no app serves, so a new IdP (or a connection
    made again) never inherits the old one's subjects. How many moved."""
    return _unlink_identities_where(provider=provider_id)


def _unlink_identities_where(**lookup: Any) -> int:
    retired = f"{PROVIDER_ID_PREFIX}{uuid.uuid4().hex[:16]}"
    return SocialAccount.objects.filter(**lookup).update(provider=retired)


def idp_of_app(app: Any) -> tuple[str, str]:
    """The IdP an allauth app of a tenant connection speaks to: its protocol's allauth provider and
    the OIDC issuer or SAML IdP entity id, what ``sso_config_save`` retires identities on."""
    settings = app.settings or {}
    return str(app.provider), str(settings.get("server_url") or (settings.get("idp") or {}).get("entity_id") or "")


def config_for_sign_in(provider_id: str) -> TenantSSOConfig | None:
    """``config_for_provider`` locked, in a sign-in's completing transaction (accounts.sso_completion)
    before it links or creates an identity: ``sso_config_save`` takes the row FOR UPDATE, so an IdP
    change waits for the sign-in, or the sign-in reads the change (``idp_current``)."""
    return (
        TenantSSOConfig.objects.select_for_update(no_key=True, of=("self",))
        .select_related("tenant")
        .filter(provider_id=provider_id, is_active=True)
        .first()
    )


def idp_current(config: TenantSSOConfig, idps_read: set[tuple[str, str]]) -> bool:
    """Whether every app a sign-in read (``idps_read``, ``idp_of_app``, accounts.adapter) speaks to
    the IdP ``config`` names now: what a former IdP asserted is no identity of this connection."""
    return idps_read <= {_idp_in_use(config)}


def retire_identity(account: Any) -> None:
    """An identity of a former IdP that allauth's lookup saved again under the live provider id,
    after the IdP change retired it (``idp_current``): retired again."""
    _unlink_identities_where(pk=account.pk, provider=account.provider)


def config_for_provider(provider_id: str) -> TenantSSOConfig | None:
    return TenantSSOConfig.objects.select_related("tenant").filter(provider_id=provider_id, is_active=True).first()


def is_tenant_provider(provider_id: str) -> bool:
    """Does this allauth provider id name a tenant's identity provider, switched on or not
    (its SocialApp outlives a configuration that is switched off or deleted)?"""
    return (
        provider_id.startswith(PROVIDER_ID_PREFIX) or TenantSSOConfig.objects.filter(provider_id=provider_id).exists()
    )


def speaks_for(config: TenantSSOConfig, email: str) -> bool:
    """Has the config's tenant verified this email's domain (may its IdP link or provision it)?"""
    return domains.is_verified_for(tenant=config.tenant, domain=domains.email_domain(email))


def belongs_to_tenant(user: Any, tenant: Any) -> bool:
    """A member of the tenant itself or of one of its organizations."""
    return (
        TenantMembership.objects.filter(user=user, tenant=tenant).exists()
        or OrgMembership.objects.filter(user=user, organization__tenant=tenant).exists()
    )


def sso_required(*, email: str, user: Any | None) -> TenantSSOConfig | None:
    """The config that forbids password sign-in for this email/user, if any.

    SSO is required for an address in a domain *verified* by a tenant whose configuration
    (or tenant policy) requires it — for a new address (sign-up) and for the tenant's own
    members. An existing account that does not belong to the tenant keeps password sign-in:
    its owner signs in and links the IdP themself (refusing both would lock them out), and a
    tenant never governs accounts outside its verified domains. Superusers keep password
    sign-in as the break-glass path."""
    if user is None:
        return _requiring(config_for_email(email))
    if user.is_superuser:
        return None
    # Every address the account holds counts, not only its primary one: a member cannot leave
    # the requirement behind by making a personal address primary (governing_config).
    for address in _addresses(user):
        config = _requiring(config_for_email(address))
        if config is not None and belongs_to_tenant(user, config.tenant):
            return config
    return None


def session_barred_tenants(request: Any, user: Any) -> dict[int, str]:
    """The tenants requiring SSO of ``user`` (as ``sso_required`` decides it, tenant by tenant)
    that this browser session was not signed in through: ``{tenant pk: refusal}``.

    "Require SSO" means the tenant's IdP decides who reaches the tenant. A person in two tenants
    signed in through the *other* tenant's IdP (or with a password, before the requirement was
    switched on) has not passed it, so the session reaches their other tenants only; signing in
    through the tenant's own IdP reaches it (and the others: they did not ask for their IdP).
    Read on every request, so a requirement switched on applies to sessions already open."""
    if user.is_superuser:
        return {}
    requiring = (
        TenantSSOConfig.objects.filter(is_active=True)
        .filter(Q(require_sso=True) | Q(tenant__require_sso=True))
        .filter(Q(tenant__memberships__user=user) | Q(tenant__organizations__memberships__user=user))
        .select_related("tenant")
        .distinct()
    )
    configs = list(requiring)
    if not configs:
        return {}
    addresses = _addresses(user)
    governing = [c for c in configs if any(speaks_for(c, address) for address in addresses)]
    signed_in_through = _session_idp_tenant(request, user) if governing else None
    return {
        c.tenant_id: (
            f"{c.tenant.name} requires single sign-on: this session was not signed in through its "
            f"identity provider. Sign out, then sign in through {c.tenant.name}'s single sign-on "
            "to reach its organizations"
        )
        for c in governing
        if c.tenant_id != signed_in_through
    }


def shut_out_message(tenant: Any) -> str:
    return (
        f"Saving this would shut this session out of {tenant.name}: it requires single sign-on of you, and "
        f"this session was not signed in through its identity provider. Sign in through {tenant.name}'s "
        "single sign-on first (so you know it works), or leave Require SSO off until then"
    )


def verifying_shuts_out(request: Any, user: Any, claim: Any) -> bool:
    """Whether verifying ``claim`` would bar this session from the claim's tenant: it requires
    SSO, the domain is one of the user's verified addresses', and the session was not signed
    in through the tenant's IdP (``session_barred_tenants`` once the domain counts). Judged
    before the DNS lookup, which runs outside any transaction."""
    config = TenantSSOConfig.objects.filter(tenant_id=claim.tenant_id, is_active=True).select_related("tenant").first()
    if _requiring(config) is None or user.is_superuser:
        return False
    if not any(domains.email_domain(address) == claim.domain for address in _addresses(user)):
        return False
    return bool(_session_idp_tenant(request, user) != claim.tenant_id)


def _session_idp_tenant(request: Any, user: Any) -> int | None:
    """The tenant whose IdP signed this session in: its latest sign-in (allauth's records of the
    session; a re-authentication is not a sign-in) through a tenant's identity provider."""
    from allauth.account.internal.flows.login import get_authentication_records

    session = getattr(request, "session", None)
    if session is None:
        return None
    sign_ins = [
        record
        for record in get_authentication_records(request, user)
        if record.get("method") in ("password", "socialaccount") and not record.get("reauthenticated")
    ]
    if not sign_ins or sign_ins[-1].get("method") != "socialaccount":
        return None
    provider = str(sign_ins[-1].get("provider") or "")
    if not SocialAccount.objects.filter(user=user, provider=provider, uid=str(sign_ins[-1].get("uid") or "")).exists():
        return None  # an identity of the IdP the connection spoke to before: not its IdP now
    return TenantSSOConfig.objects.filter(provider_id=provider).values_list("tenant_id", flat=True).first()


def sso_only_elsewhere(typed: str, account: Any) -> bool:
    """SSO is required of ``account`` while ``typed`` (the address that reached it) is not one
    the requirement governs: the sign-in form sends those to the IdP before any check
    (accounts.views.LoginView), and every sign-in path answers them as a wrong password, the
    password unchecked; re-authentication (the account's primary address) is not here."""
    return sso_required(email=typed, user=None) is None and sso_required(email=account.email, user=account) is not None


def governing_config(user: Any, address: str) -> TenantSSOConfig | None:
    """The SSO configuration that requires sign-in through its IdP for ``address`` of ``user``
    (a member of the tenant that verified its domain): the account keeps that address while it
    does, so it cannot drop the requirement by removing it (accounts.adapter)."""
    if user.is_superuser:
        return None
    config = _requiring(config_for_email(address))
    return config if config is not None and belongs_to_tenant(user, config.tenant) else None


def _requiring(config: TenantSSOConfig | None) -> TenantSSOConfig | None:
    return config if config is not None and (config.require_sso or config.tenant.require_sso) else None


def _addresses(user: Any) -> list[str]:
    """Every address the account holds that SSO policy reads: its primary one and its verified
    additional ones, once each."""
    from allauth.account.models import EmailAddress

    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return list(dict.fromkeys([user.email, *verified]))


def identity_unlinked(*, link: Any, actor: Any) -> None:
    """Audit an SSO identity unlinked by its owner (their account page) or an operator."""
    audit_record(
        action=A.USER_SSO_UNLINKED,
        tenant=identity_tenant(link.user, link.provider),
        target=link.user,
        changes={"provider": link.provider, "uid": link.uid},
        actor_user=actor,
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


def validate_config(config: TenantSSOConfig) -> None:
    """``InvalidInput`` (naming the field) for a configuration that cannot be saved."""
    needed = OIDC_NEEDS if config.protocol == SSOProtocol.OIDC else SAML_NEEDS
    missing = {name: [message] for name, message in needed.items() if not str(getattr(config, name) or "").strip()}
    if missing:  # each beside its own field (a form shows them all at once)
        first = next(iter(missing))
        raise InvalidInput(" ".join(m for (m,) in missing.values()), field=first, details={"fields": missing})
    if config.protocol == SSOProtocol.OIDC:
        try:  # the server fetches the issuer's documents: never from an internal address
            outbound.check_url(f"{config.issuer.rstrip('/')}/.well-known/openid-configuration", unresolvable_ok=True)
        except outbound.ForbiddenURL:
            raise InvalidInput(
                "The issuer URL must be a public http(s) address (not loopback, private or link-local)",
                field="issuer",
            ) from None
    stored = TenantSSOConfig.objects.filter(tenant_id=config.tenant_id).values_list("idp_x509_cert", flat=True)
    refused = sso_certificate.problem(
        config.idp_x509_cert, saml=config.protocol == SSOProtocol.SAML, stored=stored.first() or ""
    )
    if refused is not None:  # the message never repeats the value (it may be a private key)
        raise InvalidInput(refused, field=sso_certificate.FIELD)
    if config.default_role not in roles.OrgRole.values:
        raise InvalidInput(f"Default role must be one of {', '.join(roles.OrgRole.values)}", field="default_role")
    if config.default_organization is not None and config.default_organization.tenant_id != config.tenant_id:
        raise InvalidInput("The default organization must belong to this tenant", field="default_organization")


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


def linked_identities(config: TenantSSOConfig) -> int:
    """How many identities are linked to the configuration's IdP (a new issuer unlinks them)."""
    return SocialAccount.objects.filter(provider=config.provider_id).count()


@transaction.atomic
def sso_config_save(*, tenant: Any, actor: Any | None, values: dict[str, Any]) -> TenantSSOConfig:
    """Create or change a tenant's SSO configuration (tenant owners only)."""
    if (
        actor is not None
        and not TenantMembership.objects.filter(tenant=tenant, user=actor, role=roles.TenantRole.OWNER).exists()
    ):
        raise NotPermitted("Only tenant owners can configure single sign-on")
    config = TenantSSOConfig.objects.select_for_update().filter(tenant=tenant).first()
    created = config is None
    if config is None:
        config = TenantSSOConfig(tenant=tenant, provider_id=provider_id_for(tenant))
    before = {name: _recorded(name, getattr(config, name)) for name in EDITABLE}
    idp_before = _idp_in_use(config)
    for name, value in values.items():
        if name not in EDITABLE:
            raise InvalidInput(f"Unknown SSO setting {name!r}", field=name)
        if name == "client_secret" and not value and not created:
            continue  # an empty secret field keeps the stored secret
        if name == sso_certificate.FIELD:
            value = sso_certificate.normalise(value)  # stored as every channel compares it
        setattr(config, name, value)
    validate_config(config)
    unlinked: dict[str, Any] | None = None
    if created or _idp_in_use(config) != idp_before:
        # A different IdP (another protocol is one too, its fields kept from earlier or not; or a
        # connection made again after one was deleted) must never inherit the old one's subjects;
        # the addresses stay. The other protocol's fields name no IdP in use: editing them keeps
        # the identities. The identities linked to the old one no
        # longer sign anyone in: the entry says how many (the owner's page warned).
        count = _unlink_identities(config.provider_id)
        if count or not created:
            unlinked = {"provider": config.provider_id, "count": count}
    config.save()
    sync_social_app(config)
    after = {name: _recorded(name, getattr(config, name)) for name in EDITABLE}
    changes: dict[str, Any] = {
        name: {"from": before[name], "to": after[name]}
        for name in EDITABLE
        if before[name] != after[name] and name != "client_secret"
    }
    if before["client_secret"] != after["client_secret"]:
        changes["client_secret_changed"] = True  # never the value
    if unlinked is not None:
        changes["identities_unlinked"] = unlinked
    if created or changes:  # saving the same settings again records nothing
        audit_record(action=A.TENANT_UPDATED, tenant=tenant, target=tenant, changes={"sso": changes}, actor_user=actor)
    return config


@transaction.atomic
def sso_config_delete(*, config: TenantSSOConfig, actor: Any | None) -> None:
    """Remove a tenant's SSO configuration and the allauth SocialApp behind it, audited
    (``tenant.updated``; never the client secret). Tenant owners only (``None``: an operator)."""
    tenant = config.tenant
    if (
        actor is not None
        and not TenantMembership.objects.filter(tenant=tenant, user=actor, role=roles.TenantRole.OWNER).exists()
    ):
        raise NotPermitted("Only tenant owners can configure single sign-on")
    before = {name: _recorded(name, getattr(config, name)) for name in EDITABLE if name != "client_secret"}
    SocialApp.objects.filter(provider_id=config.provider_id).delete()
    config.delete()
    audit_record(
        action=A.TENANT_UPDATED,
        tenant=tenant,
        target=tenant,
        changes={"sso": {"deleted": True, "from": before}},
        actor_user=actor,
    )


@transaction.atomic
def sso_stored_private_keys_clear() -> list[TenantSSOConfig]:
    """Replace every private key stored as an IdP signing certificate (saved before the check
    refused one) with empty, in the configuration and its allauth app: a private key is the
    IdP's secret, never the SP's to keep. Nothing else changes; SAML sign-ins of the tenant are
    refused until its owner pastes the certificate (their page asks for it). Audited under each
    tenant (``tenant.updated``), never with the key. The configurations cleared."""
    cleared = []
    stored = TenantSSOConfig.objects.select_for_update().filter(idp_x509_cert__contains="PRIVATE KEY")
    for config in stored.select_related("tenant").order_by("pk"):
        changes: dict[str, Any] = {
            "idp_x509_cert": {"from": _recorded(sso_certificate.FIELD, config.idp_x509_cert), "to": ""}
        }
        config.idp_x509_cert = ""
        config.save(update_fields=["idp_x509_cert"])
        sync_social_app(config)
        changes["private_key_cleared"] = True
        audit_record(action=A.TENANT_UPDATED, tenant=config.tenant, target=config.tenant, changes={"sso": changes})
        cleared.append(config)
    return cleared


def _idp_in_use(config: TenantSSOConfig) -> tuple[str, str]:
    """The IdP a configuration signs in through (``idp_of_app`` of its app): its protocol and that
    protocol's field naming the IdP as sign-in reads it (the OIDC issuer without its trailing
    slash, the SAML IdP entity ID); the other protocol's fields are not read."""
    protocol = PROVIDER_BY_PROTOCOL[SSOProtocol(config.protocol)]
    return idp_of_app(SocialApp(provider=protocol, settings=_app_settings(config)))


def _recorded(name: str, value: Any) -> Any:
    """A setting as its audit entry records it: an organization by its id; the signing
    certificate by its fingerprint, subject and expiry, never its text (it may be a private key)."""
    if name == sso_certificate.FIELD:
        return sso_certificate.audit_summary(value or "")
    if isinstance(value, Organization):
        return value.public_id
    return value


def provisioning_org(config: TenantSSOConfig) -> Organization | None:
    if config.default_organization_id:
        return config.default_organization
    return Organization.objects.filter(tenant=config.tenant).order_by("pk").first()
