"""SPEC §10 (``create_tenant`` and the admin's tenant add form name a new tenant's owner) and
§11 (the embedded SQLite and PostgreSQL behave alike). Found by review A (s41): an owner
address longer than an account's address can be (254 characters, as sign-up and the API take
it) was stored as typed on SQLite, an account no sign-in form accepts; on PostgreSQL the same
command answered a ``DATABASE_ERROR`` ("value too long for type character varying(254)") and
the admin's add form a 500. It is now refused as an address on both, and nothing is created."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from orgs.models import Tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.security.test_channel_parity_review import admin_form_data

pytestmark = pytest.mark.django_db
TOO_LONG = "a" * 250 + "@acme.test"  # 260 characters, a valid address to Django's validator


def test_create_tenant_refuses_an_owner_address_too_long_for_an_account() -> None:
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("create_tenant", "--name", "Acme", "--owner-email", TOO_LONG, "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["error"] == "VALIDATION_ERROR", answer
    assert "at most 254 characters" in answer["message"]
    assert not get_user_model().objects.exists() and not Tenant.objects.exists()


def test_the_admin_add_form_refuses_it_beside_the_field() -> None:
    admin = superuser_in_admin()
    url = "/admin/orgs/tenant/add/"
    data = admin_form_data(admin, url)
    data.update({"name": "Acme", "plan": "free", "key_creation_policy": "members", "owner_email": TOO_LONG})
    r = admin.post(url, data)
    assert r.status_code == 200
    assert "owner_email" in r.context["adminform"].form.errors
    assert not Tenant.objects.exists()
    assert not get_user_model().objects.filter(email__startswith="aaaa").exists()
