"""SPEC §3 (never a 500 for a request), §8 sign-up gives a self-registered user a tenant they
own. Review s48 made every tenant name refuse a live secret, and sign-up names the new tenant
after the address ("{email}'s team"): an address whose local part is a live key of this
deployment (``tater_…@example.org``, a valid address) made the sign-up a server error. The
tenant is then named by the account's public id, as for an address that cannot be shown on
one line (the address itself is the account's, recorded as such)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from audit.models import AuditEvent
from orgs.models import TenantMembership

pytestmark = pytest.mark.django_db


def test_signing_up_with_an_address_holding_a_live_key(world: dict[str, Any]) -> None:
    secret = world["owner_raw"]
    email = f"{secret}@example.org"
    client = Client(raise_request_exception=False)
    r = client.post(
        "/accounts/signup/",
        {"email": email, "password1": "a long pass phrase 9!", "password2": "a long pass phrase 9!"},
    )
    assert r.status_code in (200, 302), r.status_code
    user = get_user_model().objects.get(email=email)
    tenant = TenantMembership.objects.get(user=user, role="owner").tenant
    assert secret not in tenant.name and user.public_id in tenant.name
    created = AuditEvent.objects.get(action="tenant.created", target_id=tenant.public_id)
    assert secret not in json.dumps(created.changes["name"]) and secret not in created.target_repr
