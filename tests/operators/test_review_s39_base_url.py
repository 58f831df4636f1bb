"""``create_scim_token --base-url`` (and ``bootstrap_demo --url``) print the site's address back
to the operator, who pastes it into the identity provider (the SCIM tenant URL) or a shell
(the demo's ``export TATER_URL=…``). Any text was printed unchecked: ``javascript:…``, a
bare host with no scheme, a value with a space, a line break or a terminal escape, one with
a query string the SCIM path was glued after. Now only an http(s) URL with a host is taken
(SPEC §10: a clear error, the JSON error object with ``--json``) and nothing is created."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from orgs.models import Tenant
from scim.models import ScimToken
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db

BAD = [
    "javascript:alert(1)",
    "tater.example.com",
    "ftp://tater.example.com",
    "https://",
    "https:///scim",
    "https://tater.example.com/\nTenant URL: https://evil.test",
    "https://tater.example.com\x1b[2J",
    "https://tater example.com",
    " https://tater.example.com",
    "https://tater.example.com/?next=/",
    "https://tater.example.com/#top",
    "https://admin:hunter2@tater.example.com",
    "https://tater.example.com:99999",
    "https://<script>/",
]
GOOD = [
    ("https://tater.example.com", "https://tater.example.com/scim/v2"),
    ("https://tater.example.com/", "https://tater.example.com/scim/v2"),
    ("https://example.com/tater/", "https://example.com/tater/scim/v2"),
    ("http://localhost:8000", "http://localhost:8000/scim/v2"),
    ("http://[::1]:8000", "http://[::1]:8000/scim/v2"),
    ("HTTPS://Tater.Example.com", "HTTPS://Tater.Example.com/scim/v2"),
]


@pytest.mark.parametrize("url", BAD, ids=ascii)
def test_create_scim_token_refuses_a_base_url_that_is_not_an_http_url(url: str) -> None:
    tenant, _, _ = make_tenant(name="Initech")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("create_scim_token", "--tenant", tenant.public_id, "--base-url", url, "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["error"] == "VALIDATION_ERROR"
    assert "--base-url" in answer["message"] and "http" in answer["message"]
    assert "\n" not in answer["message"] and "\x1b" not in answer["message"]
    assert raised.value.returncode == 1
    assert not ScimToken.objects.exists()


@pytest.mark.parametrize(("url", "scim_url"), GOOD)
def test_create_scim_token_prints_the_tenant_url(url: str, scim_url: str) -> None:
    tenant, _, _ = make_tenant(name="Initech")
    out = StringIO()
    call_command("create_scim_token", "--tenant", tenant.public_id, "--base-url", url, "--json", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["scim_url"] == scim_url


def test_no_base_url_prints_the_path() -> None:
    tenant, _, _ = make_tenant(name="Initech")
    out = StringIO()
    call_command("create_scim_token", "--tenant", tenant.public_id, "--json", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["scim_url"] == "/scim/v2"


@override_settings(DEBUG=True)
@pytest.mark.parametrize("url", ["javascript:alert(1)", "http://127.0.0.1:8000\nrm -rf ~"], ids=ascii)
def test_bootstrap_demo_refuses_a_url_that_is_not_an_http_url(url: str) -> None:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("bootstrap_demo", "--url", url, "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["error"] == "VALIDATION_ERROR" and "--url" in answer["message"]
    assert not Tenant.objects.exists()
