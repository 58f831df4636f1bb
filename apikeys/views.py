"""Manage → Connections → API Keys: list, create, show once, details, and the confirmed
lifecycle actions. Views resolve the org, call one selector or service and render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from apikeys import key_page, selectors, services, snippets
from apikeys.forms import (
    AGENT_SCOPES,
    PRESETS,
    SERVICE_FIELDS,
    TYPE_HELP,
    ApiKeyCreateForm,
    ApiKeyEditForm,
    show_edit_error,
)
from apikeys.list_forms import ApiKeyFilterForm, BulkActionForm, ConfirmForm, RotateForm
from apikeys.models import ApiKey, KeyStatus, KeyType
from apikeys.usage_chart import usage_chart_context
from orgs import policy
from orgs.access import Access
from orgs.forms import add_domain_error
from orgs.models import Tenant
from orgs.ui import current_access, require_scope, url_in_org, with_org_hint
from tater import scopes as S
from tater.exceptions import Conflict, DomainError, NotPermitted, ObjectNotFound
from tater.resubmission import already_submitted, mark_submitted, new_submit_token

SNIPPET_LANGS = (("curl", "curl"), ("powershell", "PowerShell"), ("python", "Python"))


def _key_or_404(access: Access, key_id: str) -> ApiKey:
    try:
        return selectors.apikey_get(access=access, public_id=key_id)
    except ObjectNotFound:
        raise Http404("API key not found") from None


def _refuse_resubmission(request: HttpRequest) -> HttpResponse:
    messages.warning(
        request, "That form was already submitted. A key is shown only once: if you did not store it, rotate the key."
    )
    return redirect(with_org_hint(request, reverse("apikey_list")))


def _show_once(request: HttpRequest, access: Access, issued: services.IssuedKey, *, rotated: bool) -> HttpResponse:
    """Render the full key in this POST response only: it is never stored in the session
    or put in a URL, and the page must not be cached (a reload does not show it again)."""
    api_key = issued.api_key
    org_id = (
        api_key.organization.public_id
        if api_key.organization is not None
        else (access.org.public_id if access.org else "")
    )
    list_path, list_label = snippets.example_listing(api_key, org_id)
    response = render(
        request,
        "apikeys/key_issued.html",
        {
            "api_key": api_key,
            "secret": issued.key,
            "rotated": rotated,
            "host": request.build_absolute_uri("/").rstrip("/"),
            "tenant_id": access.tenant_public_id,
            "org_id": org_id,
            "permissions": S.summary(api_key.scopes),
            # Keys that cannot upload get snippets that list something they may read.
            "can_upload": snippets.can_upload(api_key),
            "list_path": list_path,
            "list_label": list_label,
            "snippet_langs": SNIPPET_LANGS,
        },
    )
    add_never_cache_headers(response)  # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private
    response["Pragma"] = "no-cache"
    return response


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "keys:read")
    filter_form = ApiKeyFilterForm(request.GET or None)
    actor = selectors.actor_of(access, request.user)
    # A filter that cannot be applied is shown as an error, not dropped (which listed every key).
    filter_errors = filter_form.is_bound and not filter_form.is_valid()
    keys = filter_form.refine(selectors.apikey_list(access=access, filters=filter_form.filters(), actor=actor))
    page = Paginator(keys.none() if filter_errors else keys, 25).get_page(request.GET.get("page"))
    now = timezone.now()
    can_write = "keys:write" in access.scopes
    rows = [
        {
            "key": key,
            "permissions": S.summary(key.scopes),
            "expiry": key_page.expiry_state(key, now),
            "rotation": key_page.rotation_state(key, now),
            "can_rotate": can_write and bool(policy.can_rotate_key(actor, key)),
            "can_activate": can_write and bool(policy.can_activate_key(actor, key)),
        }
        for key in page.object_list
    ]
    return render(
        request,
        "apikeys/key_list.html",
        {
            "page": page,
            "rows": rows,
            "filter_form": filter_form,
            "filtered": filter_form.active,
            "filter_errors": filter_errors,
            "can_write": can_write,
            "querystring": _without_page(request),
            "own_keys_only": _own_keys_only(access, actor),
            "bulk_actions": BULK_ACTIONS,
        },
        status=400 if filter_errors else 200,
    )


def _own_keys_only(access: Access, actor: policy.Actor) -> bool:
    """Whether this person sees only their own keys here (members and viewers)."""
    return policy.key_reach(actor, org_pk=access.org.pk if access.org else None).owner_pk is not None


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


BULK_ACTIONS = {
    "deactivate": {"verb": "Deactivate", "done": "deactivated", "danger": False},
    "revoke": {"verb": "Revoke", "done": "revoked", "danger": True},
}


@login_required
@require_POST
def key_bulk(request: HttpRequest) -> HttpResponse:
    """Deactivate or revoke the keys ticked in the list. The first POST shows what will
    happen (a confirmation page); the confirmed POST calls the service once per key, which
    allows or refuses each one, and both outcomes are reported."""
    access = current_access(request)
    require_scope(access, "keys:write")
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick at least one key, then choose what to do with them.")
        return redirect(_list_url(request))
    action = form.cleaned_data["action"]
    actor = selectors.actor_of(access, request.user)
    keys, missing = [], 0
    for key_id in dict.fromkeys(form.cleaned_data["keys"]):
        try:
            keys.append(selectors.apikey_get(access=access, public_id=key_id, actor=actor))
        except ObjectNotFound:
            missing += 1
    if not form.cleaned_data["confirm"]:
        return render(
            request,
            "apikeys/key_bulk_confirm.html",
            {
                "keys": keys,
                "missing": missing,
                "action": action,
                "meta": {"text": key_page.deactivation_text(actor, keys)}
                if action == "deactivate"
                else ACTIONS[action],
                "verb": BULK_ACTIONS[action],
                "back": _list_url(request, form.cleaned_data["back"]),
            },
        )
    done, refused = [], []
    for api_key in keys:
        try:
            if action == "revoke":
                services.apikey_revoke(api_key=api_key, actor=actor)
            else:
                services.apikey_set_active(api_key=api_key, actor=actor, active=False)
        except DomainError as exc:
            refused.append(f"“{api_key.name}”: {exc.message.rstrip('.')}.")
        else:
            done.append(f"“{api_key.name}”")
    verb = BULK_ACTIONS[action]["done"]
    if done:
        messages.success(request, f"{len(done)} key{'s' if len(done) != 1 else ''} {verb}: {', '.join(done)}.")
    for text in refused:
        messages.error(request, f"Not {verb}: {text}")
    if missing:
        messages.warning(request, f"{missing} of the chosen keys no longer exist or are out of your reach.")
    return redirect(_list_url(request, form.cleaned_data["back"]))


def _list_url(request: HttpRequest, back: str = "") -> str:
    """Back to the list with its filters (only a path of the list itself, never off-site), in
    the org the list showed."""
    listing = reverse("apikey_list")
    if back.startswith(listing + "?") and url_has_allowed_host_and_scheme(back, {request.get_host()}):
        return with_org_hint(request, back)
    return with_org_hint(request, listing)


def _type_choice(request: HttpRequest) -> tuple[str, bool]:
    """The key type the form is for, and whether the POST only switched to it (a type button
    of the form: the page comes back for that type with what was typed, nothing created)."""
    switched = request.method == "POST" and request.POST.get("switch_type") in KeyType.values
    if switched:
        value = request.POST.get("switch_type")
    else:
        value = request.POST.get("type") if request.method == "POST" else request.GET.get("type")
    return (value if value in KeyType.values else KeyType.STANDARD), switched


@login_required
@require_http_methods(["GET", "POST"])
def key_create(request: HttpRequest) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "keys:write")
    tenant = Tenant.objects.get(pk=access.tenant_pk)
    key_type, switched = _type_choice(request)
    form = ApiKeyCreateForm(
        request.POST if request.method == "POST" and not switched else None,
        key_type=key_type,
        org_name=access.org.name if access.org else None,
        can_create_unbound=access.is_tenant_owner,
        max_lifetime_days=tenant.max_key_lifetime_days,
        creator_scopes=access.scopes,
        initial={"submit_token": new_submit_token()},
    )
    if switched:
        form.keep_typed(request.POST)
    elif request.method == "POST" and form.is_valid():
        if already_submitted(request, form.cleaned_data["submit_token"]):
            return _refuse_resubmission(request)
        try:
            issued = services.apikey_create(
                creator=request.user,
                tenant=tenant,
                organization=None if form.unbound else access.organization(),
                name=form.cleaned_data["name"],
                key_type=form.key_type,
                scopes=form.scopes(),
                expires_at=form.expires_at(),
                allowed_ips=form.allowed_ip_list(),
                rate_limit=form.cleaned_data["rate_limit"],
                usage_limit=form.cleaned_data["usage_limit"],
                usage_refill=form.cleaned_data["usage_refill"],
            )
        except DomainError as exc:
            _show_create_error(form, exc)
        else:
            mark_submitted(request, form.cleaned_data["submit_token"])
            return _show_once(request, access, issued, rotated=False)
    response = render(
        request,
        "apikeys/key_form.html",
        {
            "form": form,
            "tenant": tenant,
            "key_type": form.key_type,
            "types": [
                {"value": value, "label": label, "help": TYPE_HELP[value], "current": value == form.key_type}
                for value, label in KeyType.choices
            ],
            "agent_scopes": AGENT_SCOPES,
            "preset_help": {value: text for value, _, text in PRESETS},
        },
    )
    if request.method == "POST" and not switched:
        response.status_code = 400
    return response


def _show_create_error(form: ApiKeyCreateForm, exc: DomainError) -> None:
    """A permission the creator lacks goes on its resource's select (or on the preset)."""
    beyond = (exc.details or {}).get("required_permissions") if isinstance(exc, NotPermitted) else None
    fields = {form.resource_field(scope): scope for scope in beyond or ()}
    per_resource = form.key_type != KeyType.STANDARD or form.cleaned_data.get("preset") == "limited"
    if beyond and None not in fields and per_resource:
        for field, scope in fields.items():
            form.add_error(field, f"Your role does not have {scope}, so this key cannot have it either.")
        return
    add_domain_error(form, exc, SERVICE_FIELDS)


@login_required
def key_detail(request: HttpRequest, key_id: str) -> HttpResponse:
    access = current_access(request)
    require_scope(access, "keys:read")
    try:
        api_key = selectors.apikey_get(access=access, public_id=key_id)
    except ObjectNotFound:
        return key_page.in_its_org(request, key_id)  # its page in the org that holds it, else 404
    now = timezone.now()
    return render(
        request,
        "apikeys/key_detail.html",
        {
            "api_key": api_key,
            "permissions": S.summary(api_key.scopes),
            "effective": key_page.effective_permissions(api_key),
            "chart": usage_chart_context(
                key_pk=api_key.pk, range_key=request.GET.get("range"), title=f"Requests with {api_key.name}"
            ),
            "rotation": key_page.rotation_state(api_key, now),
            "recent_ips": key_page.recent_addresses(api_key),
            "usage_limit": key_page.usage_limit_state(api_key),
            "can_write": "keys:write" in access.scopes,
            # Rotation returns the secret: offered to the key's owner only (SPEC §2a).
            "can_rotate": bool(policy.can_rotate_key(selectors.actor_of(access, request.user), api_key)),
            # Reactivating gives access back: the owner's (admins deactivate, never reactivate).
            "can_activate": bool(policy.can_activate_key(selectors.actor_of(access, request.user), api_key)),
            "is_revoked": api_key.status == KeyStatus.REVOKED,
            "expiry": key_page.expiry_state(api_key, now),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_edit(request: HttpRequest, key_id: str) -> HttpResponse:
    """Change a key's name, narrow its permissions, set its allowlist, expiry and rate limit."""
    access = current_access(request)
    require_scope(access, "keys:write")
    api_key = _key_or_404(access, key_id)
    context: dict[str, Any] = {"api_key": api_key, "is_revoked": api_key.status == KeyStatus.REVOKED}
    if context["is_revoked"]:
        # Nothing to edit: the page says so (a POST changes nothing either).
        return render(request, "apikeys/key_edit.html", context, status=400 if request.method == "POST" else 200)

    def edit_form(data: Any) -> ApiKeyEditForm:
        lifetime, owner = api_key.tenant.max_key_lifetime_days, api_key.owner_id == request.user.pk
        return ApiKeyEditForm(data, api_key=api_key, max_lifetime_days=lifetime, owner=owner)

    def stale_page() -> HttpResponse:
        # Its old values would undo the other change: the page shows the key as it is now.
        api_key.refresh_from_db()
        return render(request, "apikeys/key_edit.html", {**context, "form": edit_form(None), "stale": True}, status=409)

    form = edit_form(request.POST if request.method == "POST" else None)
    if form.is_stale():
        return stale_page()
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        if not form.has_changed():
            messages.info(request, "Nothing changed.")
            return redirect(url_in_org(request, access, "apikey_detail", api_key.public_id))
        try:
            services.apikey_update(
                api_key=api_key,
                actor=request.user,
                name=form.cleaned_data["name"],
                scopes=form.scopes(),
                allowed_ips=form.allowed_ip_list(),
                rate_limit=form.cleaned_data["rate_limit"],
                usage_limit=form.cleaned_data["usage_limit"],
                usage_refill=form.cleaned_data["usage_refill"],
                **form.expiry_change(),
                seen=form.seen_version(),
            )
        except Conflict:
            return stale_page()
        except DomainError as exc:
            show_edit_error(form, exc)
        else:
            messages.success(request, f"Settings of “{form.cleaned_data['name'].strip()}” saved.")
            return redirect(url_in_org(request, access, "apikey_detail", api_key.public_id))
    return render(request, "apikeys/key_edit.html", context, status=400 if form.errors else 200)


ACTIONS: dict[str, dict[str, Any]] = {
    "deactivate": {
        "title": "Deactivate",
        "button": "Deactivate key",
        "danger": False,
        "done": "deactivated",  # its text says who may reactivate: key_page.deactivation_text
    },
    # SPEC §2's word: a key is reactivated (the URL and API action keep "activate").
    "activate": {
        "title": "Reactivate",
        "button": "Reactivate key",
        "done": "reactivated",
        "danger": False,
        "text": "The key will be accepted again (unless it has expired).",
    },
    "rotate": {
        "title": "Rotate",
        "button": "Rotate key",
        "done": "rotated",
        "danger": False,
        "text": "A new secret is issued for this key with the same settings. The new key is shown once.",
    },
    "revoke": {
        "title": "Revoke",
        "button": "Revoke key",
        "done": "revoked",
        "danger": True,
        "text": "Revocation is final: every call with this key (and its rotated-out secret) fails "
        "with 401 KEY_REVOKED. Integrations using it stop working immediately.",
    },
}


ACTION_POLICY: dict[str, Callable[[policy.Actor, Any], policy.Decision]] = {
    "rotate": policy.can_rotate_key,
    "revoke": policy.can_revoke_key,
    "deactivate": policy.can_revoke_key,
    "activate": policy.can_activate_key,
}


@login_required
@require_http_methods(["GET", "POST"])
def key_action(request: HttpRequest, key_id: str, action: str) -> HttpResponse:
    """Every lifecycle action is a GET confirmation page and a POST (with CSRF) that acts."""
    access = current_access(request)
    require_scope(access, "keys:write")
    api_key = _key_or_404(access, key_id)
    actor = selectors.actor_of(access, request.user)
    may = ACTION_POLICY[action](actor, api_key)
    if not may:
        # Not a confirmation page with a button that can only fail: the 403 page, saying why.
        raise PermissionDenied(may.reason)
    data = request.POST if request.method == "POST" else None
    form: ConfirmForm | RotateForm = (
        RotateForm(data, initial={"submit_token": new_submit_token()}) if action == "rotate" else ConfirmForm(data)
    )
    # A rotated secret keeps the key's expiry: an expired key would get a dead new secret.
    expired = action == "rotate" and api_key.status == KeyStatus.EXPIRED
    if request.method == "POST" and form.is_valid() and expired:
        form.add_error(None, "This key has expired, and a new secret would be refused too: set a new expiry first.")
    elif request.method == "POST" and form.is_valid():
        token = form.cleaned_data.get("submit_token", "")
        if already_submitted(request, token):
            return _refuse_resubmission(request)
        try:
            if action == "rotate":
                issued = services.apikey_rotate(
                    api_key=api_key, actor=request.user, grace_period_seconds=form.cleaned_data["grace_period_seconds"]
                )
                mark_submitted(request, token)
                return _show_once(request, access, issued, rotated=True)
            if action == "revoke":
                already = api_key.revoked_at is not None  # pressed again: say so
                services.apikey_revoke(api_key=api_key, actor=request.user)
            else:
                already = api_key.revoked_at is None and api_key.is_active == (action == "activate")
                services.apikey_set_active(api_key=api_key, actor=request.user, active=action == "activate")
            past = ACTIONS[action]["done"]
            done = f"was already {past}: nothing changed" if already else f"was {past}"
            messages.success(request, f"“{api_key.name}” {done}.")
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect(url_in_org(request, access, "apikey_detail", api_key.public_id))
    rotation = key_page.rotation_state(api_key, timezone.now()) if action == "rotate" else None
    response = render(
        request,
        "apikeys/key_confirm.html",
        {
            "api_key": api_key,
            "action": action,
            "meta": {**ACTIONS[action], "text": key_page.deactivation_text(actor, [api_key])}
            if action == "deactivate"
            else ACTIONS[action],
            "form": form,
            "rotation": rotation,
            "expired": expired,
        },
    )
    if request.method == "POST":
        response.status_code = 400
    return response
