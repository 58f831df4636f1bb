"""Review s48: ``create_scim_token`` without ``--base-url`` printed ``Tenant URL: /scim/v2`` (and
``"scim_url": "/scim/v2"``) as if it were the URL to paste into Entra ID or Okta, which need an
absolute one. The project has no setting naming its public address (a request's own host gives
it to the API and the UI), so the command cannot know it: the path stays (scripts read
``scim_url``; docs/scim.md "Operator"), and the command now says plainly that it is a path and
how to get the absolute URL, on stdout in text mode and on stderr with ``--json``."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    tenant, _, _ = make_tenant(name="Initech")
    out, err = StringIO(), StringIO()
    call_command("create_scim_token", "--tenant", tenant.public_id, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_text_output_says_the_tenant_url_is_a_path_to_complete():
    out, _ = _run()
    line = next(line for line in out.splitlines() if line.startswith("Tenant URL:"))
    assert "/scim/v2" in line
    assert "--base-url" in line and "https://" in line  # what to do, with an absolute example


def test_the_json_keeps_the_path_and_stderr_says_it_is_one():
    out, err = _run("--json")
    assert json.loads(out.strip().splitlines()[-1])["scim_url"] == "/scim/v2"
    assert "/scim/v2" in err and "--base-url" in err


def test_with_a_base_url_the_absolute_url_is_printed_without_a_note():
    out, err = _run("--base-url", "https://tater.example.com")
    assert "Tenant URL: https://tater.example.com/scim/v2\n" in out and "--base-url" not in out and err == ""
    out, err = _run("--base-url", "https://tater.example.com", "--json")
    assert json.loads(out)["scim_url"] == "https://tater.example.com/scim/v2" and err == ""
