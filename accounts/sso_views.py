"""Single sign-on pages: email-first SSO sign-in, and a tenant owner's SSO settings (one
identity provider per tenant) with the email domains it verifies."""

from __future__ import annotations

from typing import Any, cast

import requests
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.openid_connect import views as openid_connect_views
from allauth.socialaccount.providers.saml import utils as saml_utils
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

from accounts import domains, sso, sso_certificate
from accounts.forms import DomainForm, SSOConfigForm, SSOStartForm, add_service_error
from accounts.models import SSOProtocol, TenantDomain, TenantSSOConfig, User
from accounts.sso_refusals import refusal_page
from accounts.views import form_rate_limited
from orgs import access, roles
from orgs.models import Organization, Tenant, TenantMembership
from orgs.ui import current_access, session_barred, with_org_hint
from tater.exceptions import DomainError
from tater.shown_values import refuse_changed_meanwhile

IDP_UNREACHABLE_MESSAGE = (
    "Your organization's identity provider cannot be reached right now. Try again in a few minutes."
)


def oidc_login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's OpenID Connect sign-in start (it fetches the issuer's discovery document),
    with an identity provider that cannot be reached, or may not be (tater.outbound), answered
    by the refusal page instead of a 500."""
    try:
        return cast(HttpResponse, openid_connect_views.login(request, provider_id))
    except requests.RequestException:
        return cast(HttpResponse, refusal_page(request, IDP_UNREACHABLE_MESSAGE, status=502))


@form_rate_limited("sso_start")
def sso_start(request: HttpRequest) -> HttpResponse:
    """Email-first SSO: the email's domain picks the tenant's identity provider."""
    form = SSOStartForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        config = sso.config_for_email(form.cleaned_data["email"])
        if config is not None:
            return HttpResponseRedirect(sso.login_url(config))
        form.add_error("email", "Single sign-on is not set up for that email domain.")
    return render(request, "accounts/sso_start.html", {"form": form})


def _owned_tenant(request: HttpRequest) -> tuple[Any, Any]:
    """The tenant (named by ``tenant``, else the current org's, else the first) the signed-in
    user owns, and all they own. An owner of two tenants working in the second must not land on
    the first tenant's settings."""
    user = cast(User, request.user)  # the callers are @login_required
    owned = TenantMembership.objects.filter(user=user, role=roles.TenantRole.OWNER).select_related("tenant")
    wanted = request.GET.get("tenant") or request.POST.get("tenant")
    barred = session_barred(request)
    if barred:
        # A tenant requiring SSO that this session's sign-in did not pass: not its settings either.
        refused = next((m for m in owned if m.tenant_id in barred and m.tenant.public_id == wanted), None)
        if refused is not None:
            raise PermissionDenied(barred[refused.tenant_id])
        owned = owned.exclude(tenant_id__in=barred)
    if wanted:
        membership = next((m for m in owned if m.tenant.public_id == wanted), None)
    else:
        current = _current_tenant_id(request)
        membership = next((m for m in owned if m.tenant.public_id == current), None) or owned.first()
    return (membership.tenant if membership else None), owned


def _raise_if_foreign(request: HttpRequest) -> None:
    """A named tenant the user does not belong to (another's, or none) is a 404 (SPEC §1):
    "only owners" would tell a stranger it exists. Its members who are not owners read why."""
    wanted = request.GET.get("tenant") or request.POST.get("tenant")
    if not wanted:
        return
    tenant = Tenant.objects.filter(public_id=wanted).first() if "\x00" not in wanted else None
    if tenant is None or not sso.belongs_to_tenant(request.user, tenant):
        raise Http404("No such tenant")


def _current_tenant_id(request: HttpRequest) -> str | None:
    try:
        return current_access(request, org_required=False).tenant_public_id
    except (Http404, BadRequest):
        return None


def _settings_url(tenant: Any) -> str:
    return f"{reverse('accounts_sso_settings')}?{urlencode({'tenant': tenant.public_id})}"


@login_required
def sso_settings(request: HttpRequest) -> HttpResponse:
    """A tenant owner's SSO configuration (one IdP per tenant) and verified domains."""
    tenant, owned = _owned_tenant(request)
    if tenant is None:
        _raise_if_foreign(request)
        return render(request, "accounts/sso_settings.html", {"not_owner": True}, status=403)
    config = TenantSSOConfig.objects.filter(tenant=tenant).first()
    form = SSOConfigForm(request.POST if request.method == "POST" else None, instance=config, tenant=tenant)
    # As on the tenant settings page: a setting another owner changed since this page was opened
    # (a default role narrowed, SSO required) is not replaced unseen. Read before validation,
    # which writes the posted values into ``config``.
    current = form.saved_values(form.changeable()) if config is not None else {}
    if request.method == "POST" and form.is_valid() and refuse_changed_meanwhile(form, current):
        config = TenantSSOConfig.objects.filter(tenant=tenant).first()
    elif request.method == "POST" and form.is_valid():
        values = form.changes() if config is not None else {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            with transaction.atomic():  # undone when it would shut this very session out
                config = sso.sso_config_save(tenant=tenant, actor=request.user, values=values)
                if tenant.pk in access.session_bars(request, request.user):
                    raise DomainError(sso.shut_out_message(tenant), field="require_sso")
        except DomainError as exc:
            config = TenantSSOConfig.objects.filter(tenant=tenant).first()
            add_service_error(form, exc)
        else:
            messages.success(request, "Single sign-on settings saved.")
            return HttpResponseRedirect(_settings_url(tenant))
    return _settings_page(request, tenant, owned, form=form, config=config)


def _tenant_settings_url(request: HttpRequest, tenant: Any) -> str:
    """The tenant settings page of the tenant this page shows (the breadcrumb's way back): in
    the current org when it is that tenant's, else in one of its orgs (an owner reaches all)."""
    url = reverse("tenant_settings")
    if _current_tenant_id(request) == tenant.public_id:
        return with_org_hint(request, url)
    org = Organization.objects.filter(tenant=tenant).first()
    return url if org is None else f"{url}?{urlencode({access.ORG_PARAM: org.public_id})}"


def _saml_addresses(request: HttpRequest, provider_id: str) -> dict[str, str]:
    """What an owner registers at their SAML IdP: the addresses allauth serves the connection at
    and answers with (its SP metadata), built by allauth's own function so they cannot differ.
    Shown before the first save (Okta asks for them before it shows its own) and stable."""
    app = SocialApp.objects.filter(provider_id=provider_id, provider="saml").values_list("settings", flat=True)
    sp = saml_utils.build_sp_config(request, app.first() or {}, provider_id)
    return {
        "acs_url": sp["assertionConsumerService"]["url"],
        "entity_id": sp["entityId"],
        "metadata_url": request.build_absolute_uri(reverse("saml_metadata", kwargs={"organization_slug": provider_id})),
    }


def _settings_page(
    request: HttpRequest, tenant: Any, owned: Any, *, form: Any, config: Any, domain_form: Any = None
) -> HttpResponse:
    # The protocol in use is the saved one (a form sent back with errors shows what was typed).
    saved = TenantSSOConfig.objects.filter(tenant=tenant).first()
    provider_id = saved.provider_id if saved is not None else sso.provider_id_for(tenant)
    callback = request.build_absolute_uri(reverse("openid_connect_callback", kwargs={"provider_id": provider_id}))
    claims = list(domains.tenant_domains(tenant=tenant))
    invalid = form.errors or (domain_form is not None and domain_form.errors)
    return render(
        request,
        "accounts/sso_settings.html",
        {
            "form": form,
            "tenant": tenant,
            "config": config,
            "owned": owned,
            "callback_url": callback,
            "saml_addresses": _saml_addresses(request, provider_id),
            "saml_saved": saved is not None and saved.protocol == SSOProtocol.SAML,
            "saml_certificate": sso_certificate.describe(saved.idp_x509_cert) if saved is not None else None,
            "stored_private_key": saved is not None and sso_certificate.is_private_key(saved.idp_x509_cert),
            "domains": claims,
            "domain_form": domain_form or DomainForm(),
            "has_verified_domain": any(c.is_verified for c in claims),
            "linked_identities": sso.linked_identities(config) if config is not None else 0,
            "in_use": saved,
            "tenant_settings_url": _tenant_settings_url(request, tenant),
        },
        status=400 if invalid else 200,
    )


@login_required
@require_POST
def sso_domain_add(request: HttpRequest) -> HttpResponse:
    """Claim an email domain (pending until its TXT record is verified)."""
    tenant, owned = _owned_tenant(request)
    if tenant is None:
        return render(request, "accounts/sso_settings.html", {"not_owner": True}, status=403)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            claim = domains.domain_add(tenant=tenant, actor=request.user, domain=form.cleaned_data["domain"])
        except DomainError as exc:
            form.add_error("domain", exc.message)
        else:
            messages.info(request, f"Publish the TXT record below for {claim.domain}, then press Verify.")
            return HttpResponseRedirect(_settings_url(tenant))
    # The page again with what was typed and the error beside the field.
    config = TenantSSOConfig.objects.filter(tenant=tenant).first()
    sso_form = SSOConfigForm(instance=config, tenant=tenant)
    return _settings_page(request, tenant, owned, form=sso_form, config=config, domain_form=form)


def _claim_of(request: HttpRequest, domain_id: int) -> TenantDomain | HttpResponse:
    """The claim ``domain_id`` of a tenant the signed-in user owns; 404 for anything else, 403
    for a tenant requiring SSO that this session's sign-in did not pass. One such a tenant
    removed (a second press, a page opened before another owner removed it) goes back to the
    settings saying so."""
    user = cast(User, request.user)  # the callers are @login_required
    owned = TenantMembership.objects.filter(user=user, role=roles.TenantRole.OWNER).values("tenant_id")
    claim = TenantDomain.objects.select_related("tenant").filter(pk=domain_id, tenant_id__in=owned).first()
    if claim is not None:
        barred = session_barred(request)
        if claim.tenant_id in barred:
            # Not through its IdP: removing a domain would lift its "Require SSO" from outside it.
            raise PermissionDenied(barred[claim.tenant_id])
        return claim
    removed = domains.removed_claim(tenant_ids=owned, domain_id=domain_id)
    if removed is None:
        raise Http404("No such domain")
    tenant, domain = removed
    messages.info(request, f"{domain} was already removed: nothing changed.")
    return HttpResponseRedirect(_settings_url(tenant))


@login_required
@require_POST
@form_rate_limited("sso_domain_verify")
def sso_domain_verify(request: HttpRequest, domain_id: int) -> HttpResponse:
    """Look the domain's TXT record up now; verified when it carries the claim's token."""
    claim = _claim_of(request, domain_id)
    if isinstance(claim, HttpResponse):
        return claim
    if sso.verifying_shuts_out(request, request.user, claim):
        messages.error(request, sso.shut_out_message(claim.tenant))
        return HttpResponseRedirect(_settings_url(claim.tenant))
    try:
        claim = domains.domain_verify(tenant_domain=claim, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{claim.domain} is verified: its sign-ins now go to your identity provider.")
    return HttpResponseRedirect(_settings_url(claim.tenant))


@login_required
@require_http_methods(["GET", "POST"])
def sso_domain_remove(request: HttpRequest, domain_id: int) -> HttpResponse:
    """GET: confirm (a removed domain's sign-ins stop going to the IdP). POST: remove."""
    claim = _claim_of(request, domain_id)
    if isinstance(claim, HttpResponse):
        return claim
    if request.method == "GET":
        context = {"claim": claim, "settings_url": _settings_url(claim.tenant)}
        return render(request, "accounts/sso_domain_remove.html", context)
    domains.domain_remove(tenant_domain=claim, actor=request.user)
    messages.success(request, f"{claim.domain} removed.")
    return HttpResponseRedirect(_settings_url(claim.tenant))
