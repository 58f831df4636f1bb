"""Operator admin for tenants, organizations and memberships. Writes go through the
same transaction as an audit entry (channel ``admin``, set by the middleware for /admin/),
and meet the rules of every other channel: names and settings are checked by
orgs.services' own cleaners, memberships are written by its services (the last owner
stays, a removed member's invitations are withdrawn). An organization's tenant and a
membership's person and org are fixed once created: moving them is no channel's operation
(keys and members would be carried into another tenant, a key would keep its old role)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from audit import registry as A
from audit.services import audit_record
from orgs import email_owners, members, policy, selectors, services
from orgs.forms import EmailAsTyped
from orgs.models import Organization, OrgMembership, Tenant, TenantMembership
from tater.exceptions import DomainError
from tater.shown_values import ShownValuesForm


def _changes(form: ModelForm) -> dict[str, Any]:
    return {name: {"from": form.initial.get(name), "to": form.cleaned_data.get(name)} for name in form.changed_data}


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def simple(value: Any) -> Any:
        return value if isinstance(value, str | int | float | bool | type(None)) else str(value)

    return {k: {"from": simple(v["from"]), "to": simple(v["to"])} for k, v in changes.items()}


class TenantChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.public_id})"


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.public_id}) of tenant {obj.tenant.name} ({obj.tenant.public_id})"


class TenantsToldApart(admin.ModelAdmin):
    """Drop-downs of tenants and orgs name each choice's tenant and id: names are each
    tenant's own choice, so two "Acme"s or two "Finance" orgs would be the same line, and an
    operator could give someone a role in another tenant's org (SPEC §1)."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Tenant:
            kwargs.setdefault("form_class", TenantChoiceField)
        elif db_field.related_model is Organization:
            kwargs.setdefault("form_class", OrganizationChoiceField)
            kwargs.setdefault("queryset", Organization.objects.select_related("tenant"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AuditedAdmin(TenantsToldApart):
    """Save in one transaction with the audit entry (cache invalidation: apikeys.keycheck's receivers)."""

    created_action = updated_action = ""

    def audit_scope(self, obj: Any) -> tuple[Tenant | None, Organization | None]:
        raise NotImplementedError

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        tenant, org = self.audit_scope(obj)
        changes = _jsonable(_changes(form))
        if change and not changes:
            return
        audit_record(
            action=self.updated_action if change else self.created_action,
            tenant=tenant,
            organization=org,
            target=obj,
            changes=changes,
            actor_user=request.user,
        )


class OrganizationInline(admin.TabularInline):
    model = Organization
    fields = ("public_id", "name", "slug", "created_at")
    readonly_fields = ("public_id", "name", "slug", "created_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TenantAdminForm(ShownValuesForm):
    """A change saves only the settings changed on the page (tater.shown_values), as the
    settings page does: a page opened before an owner tightened a policy does not put the
    older, looser value back when the operator saves it for another change."""

    class Meta:
        model = Tenant
        fields = list(services.TENANT_SETTINGS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in services.TENANT_SETTINGS:
            # A value left as it is stays (a name given before a rule was added): only what
            # changes is saved (TenantAdmin.save_model), so only that is checked.
            if field in data and (self.instance._state.adding or field in self.changed_data):
                try:
                    data[field] = services.clean_tenant_setting(field, data[field])
                except DomainError as exc:
                    self.add_error(field, exc.message)
        # As on the settings page: a setting the owner changed since the page was opened is not
        # replaced unseen.
        self.refuse_stale(services.TENANT_SETTINGS)
        return data


class TenantAddForm(TenantAdminForm):
    owner_email = EmailAsTyped(
        label="Owner's email",
        max_length=254,  # an account's address (accounts.User.email)
        help_text="Every tenant has an owner. An account is created for a new address, without a "
        "password: its holder sets one through password reset or signs in with SSO.",
    )

    operator: Any = None  # who opened the page (``TenantAdmin.get_form``)

    def clean_owner_email(self) -> str:
        # SPEC §8: an existing account gets the tenant only if it proved it holds the address;
        # one signed up in advance with somebody else's address never does.
        email = self.cleaned_data["owner_email"]
        existing = email_owners.account_holding(email)
        operator = self.operator
        if existing is not None and operator is not None and existing.pk == operator.pk and not operator.is_superuser:
            # As on the membership pages (README): who holds which powers is a superuser's decision.
            raise forms.ValidationError("Operators do not make their own account a tenant's owner: a superuser does.")
        if existing is not None and not members.proved_address(existing, email):
            raise forms.ValidationError(
                "An account with this address exists but has never verified it (anyone can sign up with "
                "an address): it becomes an owner only once it has confirmed the address."
            )
        return email


class OrganizationAdminForm(ShownValuesForm):
    """A change saves only what was changed on the page (tater.shown_values), as the tenant's
    page does: a page opened before the org's admin renamed it does not put the old name back
    when the operator saves it for another change; a rename of a name changed meanwhile is
    refused, naming the current one."""

    class Meta:
        model = Organization
        fields = ["tenant", "name", "slug"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.refuse_stale(("name", "slug"))
        return data

    def clean_name(self) -> str:
        if not self.instance._state.adding and "name" not in self.changed_data:
            return str(self.cleaned_data.get("name"))  # left as it is: kept, as for a tenant
        try:
            return services.clean_org_name(self.cleaned_data.get("name"))
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if self.instance.pk is not None:
            # The tenant is read-only on the change page, so Django's unique check leaves
            # (tenant, slug) out: a sibling's slug would reach the database (a 500).
            siblings = Organization.objects.filter(tenant_id=self.instance.tenant_id).exclude(pk=self.instance.pk)
            if siblings.filter(slug=slug).exists():
                raise forms.ValidationError("Another organization of this tenant has this slug.")
        return slug


@admin.register(Tenant)
class TenantAdmin(AuditedAdmin):
    form = TenantAdminForm
    list_display = ("name", "public_id", "plan", "require_2fa", "require_sso", "max_key_lifetime_days", "created_at")
    list_filter = ("plan", "require_2fa", "require_sso", "key_creation_policy")
    search_fields = ("name", "public_id")
    readonly_fields = ("public_id", "created_at")
    inlines = [OrganizationInline]
    created_action, updated_action = A.TENANT_CREATED, A.TENANT_UPDATED

    def audit_scope(self, obj: Tenant) -> tuple[Tenant | None, Organization | None]:
        return obj, None

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = TenantAddForm
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"operator": request.user}) if obj is None else form

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if change:
            # Changed the way the settings page changes it (a new maximum key lifetime caps
            # the keys already issued), audited once by the service.
            operator = policy.Actor(user=request.user, tenant_pk=obj.pk, operator=True)
            changed = {
                field: form.cleaned_data[field] for field in form.changed_data if field in services.TENANT_SETTINGS
            }
            services.tenant_update(tenant=obj, actor=operator, **changed)
            return None
        # Added the way create_tenant adds one: with its owner, audited once by the service.
        owner, _ = services.user_get_or_create(email=form.cleaned_data["owner_email"])
        tenant = services.tenant_create(
            owner=owner, **{field: form.cleaned_data[field] for field in services.TENANT_SETTINGS}
        )
        obj.pk, obj.public_id, obj.created_at = tenant.pk, tenant.public_id, tenant.created_at

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # tenants are closed by support, not deleted from the admin


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    form = OrganizationAdminForm
    list_display = ("name", "public_id", "tenant", "slug", "created_at")
    list_filter = ("tenant__plan",)
    search_fields = ("name", "public_id", "slug", "tenant__name", "tenant__public_id")
    readonly_fields = ("public_id", "created_at")
    list_select_related = ("tenant",)
    created_action, updated_action = A.ORG_CREATED, A.ORG_UPDATED

    def audit_scope(self, obj: Organization) -> tuple[Tenant | None, Organization | None]:
        return obj.tenant, obj

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Only what was changed on the page, each audited by its service (the name as the
        # settings page renames it): the page's other values may be older than the saved ones.
        if "name" in form.changed_data:
            services.org_rename(organization=obj, name=form.cleaned_data["name"], actor=request.user)
        if "slug" in form.changed_data:
            services.org_change_slug(organization=obj, slug=form.cleaned_data["slug"], actor=request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = ("tenant",) if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *fixed)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipAdminForm(ShownValuesForm):
    """A change page posts the role it showed (tater.shown_values): saved unchanged, it changes
    nothing, and a role someone else changed since it was opened (a demotion) is refused naming
    it, never put back unseen."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.refuse_stale(("role",))
        return data

    operator: Any = None  # who opened the page (``MembershipAdmin.get_form``)

    def clean_user(self) -> Any:
        # SPEC §8, as the tenant-add form's owner: a role is given directly only to an account
        # that proved it holds its address; one signed up in advance with somebody else's never.
        user = self.cleaned_data["user"]
        operator = self.operator
        if user is not None and operator is not None and user.pk == operator.pk and not operator.is_superuser:
            # Who holds which powers is a superuser's decision (as is_staff/is_superuser, accounts.admin).
            raise forms.ValidationError(
                "Operators do not give their own account roles: a superuser does, or the tenant's owner."
            )
        if user is not None and not members.proved_address(user, user.email):
            raise forms.ValidationError(
                "This account has never verified its address (anyone can sign up with an address): "
                "it gets a role only once it has confirmed it, or through an invitation."
            )
        return user


class TenantMembershipAdminForm(MembershipAdminForm):
    class Meta:
        model = TenantMembership
        fields = ["tenant", "user", "role"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is not None and "role" in data:
            try:
                services.require_owner_remains(
                    tenant=self.instance.tenant, user=self.instance.user, old_role=self.instance.role, role=data["role"]
                )
            except DomainError as exc:
                self.add_error("role", exc.message)
        return data


class MembershipAdmin(TenantsToldApart):
    """Memberships are written by orgs.services (audited there, channel ``admin``)."""

    fixed_on_change: tuple[str, ...] = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = self.fixed_on_change if obj is not None else ()
        return (*super().get_readonly_fields(request, obj), *fixed)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"operator": request.user})

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A staff operator's own role is not theirs to change (a superuser's decision).
        own = obj is not None and obj.user_id == request.user.pk and not getattr(request.user, "is_superuser", False)
        return not own and super().has_change_permission(request, obj)

    def set_role(self, request: HttpRequest, obj: Any, role: str | None) -> Any:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if change and "role" not in form.changed_data:
            return  # the page's role may be older than the saved one
        saved = self.set_role(request, obj, obj.role)
        obj.pk, obj.created_at = saved.pk, saved.created_at

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.set_role(request, obj, None)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


def last_owners_kept(request: HttpRequest, leaving: QuerySet[TenantMembership], page: tuple[Any, ...]) -> Any:
    """A delete page's ``get_deleted_objects`` answer, where ending the ``leaving`` tenant
    roles together would leave a tenant without an owner who can sign in (SPEC §1): those
    owners and their tenant are named as what stops the deletion, where Django asked for a
    "permission to delete tenant memberships" nobody is given for them."""
    deleted, counts, perms_needed, protected = page
    orphaned = selectors.tenants_left_without_owner(leaving=leaving)
    if orphaned and request.user.has_perm("orgs.delete_tenantmembership"):  # not one this operator lacks
        perms_needed.discard(str(TenantMembership._meta.verbose_name))
    for tenant, owners in orphaned.items():
        emails = ", ".join(owner.email for owner in owners)
        are = f"{emails} is the last owner" if len(owners) == 1 else f"{emails} are the last owners"
        protected.append(
            f"{are} of {tenant.name}. A tenant keeps an owner who can sign in: make another member "
            "its owner first (Tenant memberships), then delete."
        )
    return deleted, counts, perms_needed, protected


@admin.register(TenantMembership)
class TenantMembershipAdmin(MembershipAdmin):
    form = TenantMembershipAdminForm
    list_display = ("user", "tenant", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "tenant__name", "tenant__public_id")
    raw_id_fields = ("user",)
    list_select_related = ("user", "tenant")
    fixed_on_change = ("user", "tenant")

    def set_role(self, request: HttpRequest, obj: TenantMembership, role: str | None) -> Any:
        return services.tenant_member_set(tenant=obj.tenant, user=obj.user, role=role, actor=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            try:
                services.require_owner_remains(tenant=obj.tenant, user=obj.user, old_role=obj.role, role=None)
            except DomainError:
                return False  # the tenant's last owner
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        page = super().get_deleted_objects(objs, request)
        return last_owners_kept(request, TenantMembership.objects.filter(pk__in=[m.pk for m in objs]), page)


class OrgMembershipAdminForm(MembershipAdminForm):
    class Meta:
        model = OrgMembership
        fields = ["organization", "user", "role"]


@admin.register(OrgMembership)
class OrgMembershipAdmin(MembershipAdmin):
    form = OrgMembershipAdminForm
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organization__name", "organization__public_id")
    raw_id_fields = ("user",)
    list_select_related = ("user", "organization__tenant")
    fixed_on_change = ("user", "organization")

    def set_role(self, request: HttpRequest, obj: OrgMembership, role: str | None) -> Any:
        return services.org_member_set(organization=obj.organization, user=obj.user, role=role, actor=request.user)
