"""The JSON sign-in answers with the ``/me`` data of the new session. A password sign-in whose
second factor is verified after a tenant switched "Require SSO" on (the challenge was issued
before) opens a session that tenant bars (docs/accounts.md: a password session reaches the
user's other tenants only): the answer must leave that tenant and its orgs out, as ``/me``
does on the next request, not list them once (SPEC §8 "requires SSO", §5 auth/verify-2fa)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import TenantSSOConfig
from orgs import services as org_services
from tests.accounts.conftest import clock, enrol, totp_code
from tests.accounts.test_review_s39_sso_other_tenant_idp import acme_idp, globex_idp, world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
__all__ = ["acme_idp", "clock", "globex_idp", "world"]  # fixtures


def test_verify_2fa_answer_leaves_out_a_tenant_that_now_requires_sso(world: dict[str, Any], clock: Any) -> None:
    org_services.tenant_member_set(tenant=world["globex"], user=world["bob"], role="admin")
    TenantSSOConfig.objects.filter(tenant=world["globex"]).update(require_sso=False)
    device, _codes = enrol(world["bob"], clock.now)
    api = APIClient()
    first = api.post("/api/v1/auth/login", {"email": "bob@acme.test", "password": PASSWORD}, format="json")
    assert first.status_code == 200 and first.json()["requires2FA"] is True, first.content
    TenantSSOConfig.objects.filter(tenant=world["globex"]).update(require_sso=True)
    clock.advance(30)
    done = api.post(
        "/api/v1/auth/verify-2fa", {"token": first.json()["token"], "code": totp_code(device, clock.now)}, format="json"
    )
    assert done.status_code == 200, done.content
    answer = done.json()["user"]
    assert [t["id"] for t in answer["tenants"]] == [world["acme"].public_id]
    assert [o["id"] for o in answer["organizations"]] == [world["acme_org"].public_id]
    me = api.get("/api/v1/me").json()
    assert (me["tenants"], me["organizations"]) == (answer["tenants"], answer["organizations"])
