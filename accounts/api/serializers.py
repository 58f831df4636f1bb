from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import Q
from rest_framework import serializers

from accounts.models import TenantSSOConfig
from apikeys.api.serializers import ScopesField
from tater.api.fields import BoundedDateTimeField, EmailInput, RejectUnknownFieldsMixin


class LoginInput(RejectUnknownFieldsMixin, serializers.Serializer):
    email = EmailInput(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class LoginOutput(serializers.Serializer):
    requires2FA = serializers.BooleanField()
    token = serializers.CharField(
        required=False, help_text="Send it to auth/verify-2fa with a code (valid 5 minutes, once)"
    )
    expires_in = serializers.IntegerField(required=False)
    methods = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="The account's second factors: totp, recovery_code, passkey (answer with webauthn)",
    )
    user = serializers.DictField(required=False)


class VerifyInput(RejectUnknownFieldsMixin, serializers.Serializer):
    """The second step: the login token and either a code or a passkey's assertion."""

    token = serializers.CharField(max_length=200)
    code = serializers.CharField(max_length=64, required=False, help_text="A TOTP code or a recovery code")
    webauthn = serializers.DictField(
        required=False,
        help_text="A passkey's answer to the challenge of auth/webauthn/options: the PublicKeyCredential as JSON "
        "(id, rawId, type, response.clientDataJSON/authenticatorData/signature/userHandle, base64url)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "code" in attrs and "webauthn" in attrs:
            raise serializers.ValidationError({"webauthn": ["Send a code or a passkey assertion, not both."]})
        if "code" not in attrs and "webauthn" not in attrs:
            raise serializers.ValidationError({"code": ["This field is required (or send webauthn)."]})
        return attrs


class WebAuthnOptionsInput(RejectUnknownFieldsMixin, serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token of a requires2FA answer from auth/login")


class WebAuthnOptionsOutput(serializers.Serializer):
    publicKey = serializers.DictField(  # noqa: N815 (wire name)
        help_text="PublicKeyCredentialRequestOptions as JSON (challenge, rpId, allowCredentials, userVerification, "
        "timeout; binary values base64url): pass it to navigator.credentials.get",
    )


class TokenExchangeInput(RejectUnknownFieldsMixin, serializers.Serializer):
    """A field the exchange does not take (``unbound``, ``type``...) is a 400 naming it (SPEC §2a)."""

    email = EmailInput(max_length=254)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    code = serializers.CharField(max_length=64, required=False, allow_blank=True)
    organizationId = serializers.CharField(max_length=64, required=False, allow_blank=True)  # noqa: N815 (wire name)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    scopes = ScopesField(required=False)
    expires_at = BoundedDateTimeField(
        required=False,
        allow_null=True,
        help_text="Omitted: no expiry, or the longest the tenant's maximum key lifetime allows when it sets one",
    )


def me_data(
    *, user: Any, access: Any, authentication: str, verified: bool, has_2fa: bool, barred: Collection[int] = ()
) -> dict[str, Any]:
    """``/me``'s answer. ``authentication``: how the caller authenticated, ``api_key``,
    ``idp_token`` or ``session`` (a key sees only its own tenant and org, an identity-provider
    token only its provider's tenant, a session not the orgs of ``barred`` tenants, which it
    may not reach: ``orgs.access.session_bars``)."""
    via_key = authentication == "api_key"
    from orgs.models import OrgMembership, TenantMembership
    from orgs.selectors import orgs_reachable_by_user

    tenant_roles = {m.tenant_id: m for m in TenantMembership.objects.filter(user=user).select_related("tenant")}
    org_roles = dict(OrgMembership.objects.filter(user=user).values_list("organization_id", "role"))
    orgs = list(orgs_reachable_by_user(user=user, excluding_tenants=barred))
    tenants: dict[int, Any] = {o.tenant_id: o.tenant for o in orgs}
    # A barred tenant is left out with its orgs (its owners and admins hold a tenant role there).
    tenants.update({pk: m.tenant for pk, m in tenant_roles.items() if pk not in barred})
    if via_key or authentication == "idp_token":
        # A key sees only its own tenant (and its own org when it is org-bound); an
        # identity-provider token only the tenant whose provider issued it.
        tenant_pk = access.tenant_pk if access is not None else None
        tenants = {pk: t for pk, t in tenants.items() if pk == tenant_pk}
        orgs = [
            o
            for o in orgs
            if o.tenant_id == tenant_pk and (not via_key or access.key.is_unbound or o.pk == access.key.org.pk)
        ]
    current = access.org if access is not None else None
    # As sign-in applies it: an active SSO configuration whose switch (or the tenant's) is on.
    sso_required = set(
        TenantSSOConfig.objects.filter(tenant_id__in=tenants, is_active=True)
        .filter(Q(require_sso=True) | Q(tenant__require_sso=True))
        .values_list("tenant_id", flat=True)
    )
    return {
        "user": {"id": user.public_id, "email": user.email, "name": user.get_full_name(), "is_staff": user.is_staff},
        "authentication": authentication,
        "two_factor": {"enabled": has_2fa, "verified": verified},
        "tenants": [
            {
                "id": t.public_id,
                "name": t.name,
                "plan": t.plan,
                "role": tenant_roles[pk].role if pk in tenant_roles else None,
                "require_2fa": t.require_2fa,
                "require_sso": pk in sso_required,
            }
            for pk, t in sorted(tenants.items(), key=lambda item: item[1].name)
        ],
        "organizations": [
            {
                "id": o.public_id,
                "name": o.name,
                "tenant_id": o.tenant.public_id,
                "role": org_roles.get(o.pk),
                "tenant_role": tenant_roles[o.tenant_id].role if o.tenant_id in tenant_roles else None,
            }
            for o in orgs
        ],
        "current_organization": {"id": current.public_id, "name": current.name} if current else None,
        "permissions": sorted(access.scopes) if access is not None else [],
    }
