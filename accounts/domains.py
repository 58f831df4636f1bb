"""Verified email domains for tenant SSO (SPEC §8).

A tenant owner adds a domain (``domain_add``); it stays *pending* — it routes, requires,
links and provisions nothing — until the owner publishes the TXT record it names and
presses Verify (``domain_verify``): ``_tater-challenge.<domain>`` must carry
``tater-domain-verification=<token>``, where the token is random and belongs to that one
tenant's claim, so another tenant's (public) record proves nothing for an attacker. A
domain is verified by one tenant at most (a partial unique index holds it even when two
tenants verify at once). Claiming alone blocks nobody: several tenants may hold pending
claims on a domain, and the one that proves control wins.

The TXT record is looked up with dnspython, through the system resolver or the
nameservers of ``TATER_DNS_NAMESERVERS``, without a cache (a Verify press sees DNS as it
is now). Domains are kept in their lower-case ASCII (IDNA) form, after the NFKC + case
folding every email comparison uses, so ``Acme.TEST.``, ``acme.teſt`` and ``acme.test`` are
one domain.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import dns.exception
import dns.nameserver
import dns.resolver
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.app_settings import app_settings
from accounts.models import TenantDomain
from audit import registry as A
from audit.models import AuditEvent
from audit.services import audit_record
from orgs import roles
from orgs.models import TenantMembership
from tater.emails import normalize_email
from tater.exceptions import DomainError, InvalidInput, NotPermitted

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
TAKEN_MESSAGE = "This domain is already verified by another tenant."


class DomainVerificationFailed(DomainError):
    code = "DOMAIN_NOT_VERIFIED"
    status_code = 400


class DNSLookupFailed(Exception):
    """The TXT record could not be looked up (no answer from any nameserver, timeout…)."""


# --- Names ------------------------------------------------------------------------------


def normalize_domain(value: str) -> str:
    """The stored form of a domain an owner typed: NFKC + case folded, no leading ``@``
    or trailing dot, IDNA-encoded; at least two labels of letters, digits and hyphens."""
    name = normalize_email(value).removeprefix("@").rstrip(".")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        name = ""
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidInput("Enter a domain name such as example.com", field="domain")
    return name


def email_domain(email: str | None) -> str:
    """The (normalized) domain of an email address, or "" when it has none."""
    local, at, domain = normalize_email(email).rpartition("@")
    if not (at and local and domain):
        return ""
    try:
        return normalize_domain(domain)
    except InvalidInput:
        return ""


# --- Selectors --------------------------------------------------------------------------


def verified_domain(domain: str) -> TenantDomain | None:
    """The verified claim on ``domain`` (normalized), if a tenant has one."""
    if not domain:
        return None
    return TenantDomain.objects.select_related("tenant").filter(domain=domain, verified_at__isnull=False).first()


def tenant_domains(*, tenant: Any) -> QuerySet[TenantDomain]:
    return TenantDomain.objects.filter(tenant=tenant).order_by("domain")


def is_verified_for(*, tenant: Any, domain: str) -> bool:
    return (
        bool(domain) and TenantDomain.objects.filter(tenant=tenant, domain=domain, verified_at__isnull=False).exists()
    )


# --- Services ---------------------------------------------------------------------------


def _require_owner(tenant: Any, actor: Any | None) -> None:
    # actor None: an operator (admin, command); everyone else must own the tenant.
    if (
        actor is not None
        and not TenantMembership.objects.filter(tenant=tenant, user=actor, role=roles.TenantRole.OWNER).exists()
    ):
        raise NotPermitted("Only tenant owners can manage verified domains")


@transaction.atomic
def domain_add(*, tenant: Any, actor: Any | None, domain: str) -> TenantDomain:
    """Claim ``domain`` for the tenant's SSO (pending until verified). Adding a domain the
    tenant already claims returns that claim; a domain another tenant verified is refused."""
    _require_owner(tenant, actor)
    name = normalize_domain(domain)
    existing = TenantDomain.objects.filter(tenant=tenant, domain=name).first()
    if existing is not None:
        return existing
    if TenantDomain.objects.filter(domain=name, verified_at__isnull=False).exists():
        raise InvalidInput(TAKEN_MESSAGE, field="domain")
    try:
        with transaction.atomic():  # a savepoint: the race below leaves the outer block usable
            claim = TenantDomain.objects.create(tenant=tenant, domain=name)
    except IntegrityError:
        # The same claim added at the same moment by another request: that one is the claim.
        return TenantDomain.objects.get(tenant=tenant, domain=name)
    audit_record(
        action=A.SSO_DOMAIN_ADDED,
        tenant=tenant,
        target=claim,
        changes={"domain": name, "record": claim.record_name},
        actor_user=actor,
    )
    return claim


def domain_verify(*, tenant_domain: TenantDomain, actor: Any | None) -> TenantDomain:
    """Look the claim's TXT record up and mark the domain verified when it carries the
    claim's token. Raises ``DomainVerificationFailed`` (audited) otherwise."""
    _require_owner(tenant_domain.tenant, actor)
    if tenant_domain.is_verified:
        return tenant_domain
    if _taken(tenant_domain):
        _failed(tenant_domain, actor, "verified by another tenant")
        raise DomainVerificationFailed(TAKEN_MESSAGE, field="domain")
    # DNS first, outside any transaction: a slow nameserver must not hold row locks.
    try:
        values = txt_records(tenant_domain.record_name)
    except DNSLookupFailed as exc:
        _failed(tenant_domain, actor, f"DNS lookup failed: {exc}")
        raise DomainVerificationFailed(
            f"The DNS lookup of {tenant_domain.record_name} failed ({exc}). Try again in a few minutes.",
            field="domain",
        ) from None
    if tenant_domain.record_value not in (value.strip() for value in values):
        _failed(tenant_domain, actor, "TXT record not found" if not values else "TXT record does not match")
        raise DomainVerificationFailed(
            f"No TXT record “{tenant_domain.record_value}” was found at {tenant_domain.record_name}. "
            "Publish it, wait until your DNS provider serves it, then press Verify again.",
            field="domain",
        )
    try:
        with transaction.atomic():
            claim = TenantDomain.objects.select_for_update().get(pk=tenant_domain.pk)
            if claim.verified_at is None:
                claim.verified_at = timezone.now()
                claim.save(update_fields=["verified_at"])
                audit_record(
                    action=A.SSO_DOMAIN_VERIFIED,
                    tenant=claim.tenant,
                    target=claim,
                    changes={"domain": claim.domain, "record": claim.record_name},
                    actor_user=actor,
                )
    except IntegrityError:
        # Another tenant's verification of the same domain committed first.
        _failed(tenant_domain, actor, "verified by another tenant")
        raise DomainVerificationFailed(TAKEN_MESSAGE, field="domain") from None
    return claim


def removed_claim(*, tenant_ids: Any, domain_id: int) -> tuple[Any, str] | None:
    """(tenant, domain) of a claim one of ``tenant_ids`` removed (its ``sso.domain_removed``
    entry), for a Remove or Verify pressed again; None for any other id (another tenant's)."""
    entry = (
        AuditEvent.objects.select_related("tenant")
        .filter(
            tenant_id__in=tenant_ids,
            action=A.SSO_DOMAIN_REMOVED,
            target_type=TenantDomain._meta.model_name,
            target_id=str(domain_id),
        )
        .order_by("-created_at")
        .first()
    )
    return (entry.tenant, str(entry.changes.get("domain", ""))) if entry is not None else None


@transaction.atomic
def domain_remove(*, tenant_domain: TenantDomain, actor: Any | None) -> None:
    """Drop a claim; a verified domain stops routing, requiring and linking at once."""
    _require_owner(tenant_domain.tenant, actor)
    audit_record(
        action=A.SSO_DOMAIN_REMOVED,
        tenant=tenant_domain.tenant,
        target=tenant_domain,
        changes={"domain": tenant_domain.domain, "was_verified": tenant_domain.is_verified},
        actor_user=actor,
    )
    tenant_domain.delete()


def _taken(tenant_domain: TenantDomain) -> bool:
    return (
        TenantDomain.objects.filter(domain=tenant_domain.domain, verified_at__isnull=False)
        .exclude(tenant_id=tenant_domain.tenant_id)
        .exists()
    )


def _failed(tenant_domain: TenantDomain, actor: Any | None, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            action=A.SSO_DOMAIN_VERIFICATION_FAILED,
            tenant=tenant_domain.tenant,
            target=tenant_domain,
            changes={"domain": tenant_domain.domain, "reason": reason[:200]},
            actor_user=actor,
        )


# --- DNS --------------------------------------------------------------------------------


def txt_records(name: str) -> list[str]:
    """The TXT values at ``name`` (each record's character-strings joined), [] when the
    name or the record does not exist; ``DNSLookupFailed`` when DNS gave no answer."""
    resolver = _resolver()
    try:
        answer = resolver.resolve(name, "TXT", search=False, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.LifetimeTimeout:
        raise DNSLookupFailed("no answer in time") from None
    except dns.resolver.NoNameservers:
        raise DNSLookupFailed("the nameservers refused or failed the query") from None
    except dns.exception.DNSException as exc:
        raise DNSLookupFailed(type(exc).__name__) from None
    if answer.rrset is None:
        return []
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer.rrset]


def _resolver() -> dns.resolver.Resolver:
    servers = app_settings.DNS_NAMESERVERS
    try:
        resolver = dns.resolver.Resolver(configure=not servers)
    except dns.resolver.NoResolverConfiguration:
        raise DNSLookupFailed("no DNS resolver is configured on this server") from None
    if servers:
        resolver.nameservers = [_nameserver(entry) for entry in servers]
    resolver.timeout = resolver.lifetime = app_settings.DNS_TIMEOUT
    resolver.cache = None
    return resolver


def _nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    """``"10.0.0.2"``, ``"127.0.0.1:5353"``, ``"::1"`` or ``"[::1]:5353"``."""
    host, port = entry, "53"
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest.removeprefix(":") or "53"
    elif entry.count(":") == 1:
        host, _, port = entry.partition(":")
    try:
        ipaddress.ip_address(host)
        return dns.nameserver.Do53Nameserver(host, int(port))
    except ValueError:
        raise ImproperlyConfigured(
            f"TATER_DNS_NAMESERVERS: {entry!r} is not an IP address with an optional port"
        ) from None
