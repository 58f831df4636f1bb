"""Review s48: the README's Python snippet ("From Python and the command line") as a newcomer
pastes it. It had the credential-exchange lines dropped into the middle of the ``with``
block, so the audit loop after them was indented under nothing: Python refused the whole
snippet with ``IndentationError`` before it sent a request, and ``password`` was a name
nothing defined.

Here the snippet is taken from README.md, only its placeholders filled in (the account's
email, its org id; the password typed at the prompt), and run against the live server with
``TATER_URL`` and ``TATER_API_KEY`` exported as the README says: it must create the
"SIEM enrichment" key and exchange the owner's password for a key that validates."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import httpx

from apikeys.models import ApiKey
from tests.factories import PASSWORD, make_key, make_tenant

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet() -> str:
    section = README.read_text().split("### From Python and the command line", 1)[1]
    section = section.split("\n### ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_the_snippet_is_python() -> None:
    compile(_snippet(), "README.md", "exec")


def test_the_snippet_runs_as_pasted(live_server, monkeypatch, capsys) -> None:
    tenant, owner, (org,) = make_tenant(name="Initech", plan="enterprise")
    _, raw = make_key(user=owner, tenant=tenant, org=org, name="owner key")
    monkeypatch.setenv("TATER_URL", live_server.url)
    monkeypatch.setenv("TATER_API_KEY", raw)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="Password: ": PASSWORD)
    source = _snippet().replace('"owner@example.com"', repr(owner.email)).replace('"org-…"', repr(org.public_id))
    assert "…" not in source  # only the placeholders above

    namespace: dict = {}
    exec(compile(source, "README.md", "exec"), namespace)

    created = ApiKey.objects.get(tenant=tenant, name="SIEM enrichment")
    assert created.scopes == ["*:read"]
    assert "api_key.created" in capsys.readouterr().out  # the audit loop ran, through the key
    issued = namespace["issued"]
    answer = httpx.get(f"{live_server.url}/api/v1/auth/validate", headers={"X-API-Key": issued.key})
    assert answer.status_code == 200
    assert answer.json()["organization_id"] == org.public_id
