"""SPEC §2 ("A key never appears in logs, admin, audit entries or error bodies"): this session
names and metadata holding a live secret are refused on every channel; the API's 400 never
echoes the value, but the pages re-rendered the refused form with the value in its input, so
the secret was in the error page's body (served, cached by the browser, in its history). The
refused field now comes back empty, with its error; the rest of what was typed stays."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apikeys.models import ApiKey
from orgs.models import Organization
from tests.factories import add_member, make_key, make_tenant
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(name="Acme")
    admin = add_member(org, "admin")
    _, secret = make_key(user=owner, tenant=tenant, org=org, name="deploy")
    return {"org": org, "admin": admin, "secret": secret}


def _page(user: Any, path: str) -> tuple[Client, _Form]:
    browser = Client()
    browser.force_login(user)
    return browser, _Form(browser.get(path).content.decode(), path)


def test_an_org_rename_refused_for_a_secret_does_not_show_it_back(acme: dict[str, Any]) -> None:
    browser, form = _page(acme["admin"], "/settings/org/")
    answer = browser.post(form.action or "/settings/org/", {**form.data, "name": f"Acme {acme['secret']}"})
    body = answer.content.decode()
    assert "holds an API key" in body
    assert acme["secret"] not in body
    assert Organization.objects.get(pk=acme["org"].pk).name == "Acme Org 1"


def test_a_key_name_refused_for_a_secret_does_not_show_it_back(acme: dict[str, Any]) -> None:
    browser, form = _page(acme["admin"], "/keys/new/")
    before = ApiKey.objects.count()
    typed = {**form.data, "name": f"replaces {acme['secret']}", "allowed_ips": "10.0.0.0/8", "preset": "read_only"}
    answer = browser.post(form.action or "/keys/new/", typed)
    body = answer.content.decode()
    assert "holds an API key" in body
    assert acme["secret"] not in body
    assert "10.0.0.0/8" in body  # the rest of the form is kept
    assert ApiKey.objects.count() == before
