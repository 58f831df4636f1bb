"""An identity-provider token speaks for its provider's tenant only (SPEC §1, §3 "the
tenant's" 2FA policy; test_review_s38_idp_token_tenant.py). Its 2FA check still read every
tenant of the user: Jane, a member of Acme working through Acme's provider, was refused
(403 MFA_REQUIRED) because Globex, another tenant she belongs to and one her Acme token can
never reach, requires 2FA. The token now meets its own tenant's policy; a tenant requiring
2FA still refuses its own token to a member without a factor."""

from __future__ import annotations

from typing import Any

import pytest

from tests.surfaces.conftest import json_of
from tests.surfaces.test_idp_tokens import call, idp  # noqa: F401  (the provider fixture)
from tests.surfaces.test_review_s38_idp_token_tenant import two_tenants  # noqa: F401

pytestmark = pytest.mark.django_db


def test_another_tenants_2fa_policy_does_not_refuse_the_token(two_tenants: dict[str, Any]) -> None:  # noqa: F811
    w = two_tenants
    w["globex"].require_2fa = True
    w["globex"].save(update_fields=["require_2fa"])
    body = json_of(call(w["token"], f"/api/v1/scans/?organizationId={w['acme_org'].public_id}"), 200)
    assert body["total"] == 0
    me = json_of(call(w["token"], "/api/v1/me/"), 200)
    assert me["mfa_required"] is False


def test_its_own_tenants_2fa_policy_still_refuses_it(two_tenants: dict[str, Any]) -> None:  # noqa: F811
    w = two_tenants
    w["acme"].require_2fa = True
    w["acme"].save(update_fields=["require_2fa"])
    body = json_of(call(w["token"], f"/api/v1/scans/?organizationId={w['acme_org'].public_id}"), 403)
    assert body["error"] == "MFA_REQUIRED"
