"""Review s48: the README's ``tater`` commands ("From Python and the command line") as a
newcomer types them after ``export TATER_URL=… TATER_API_KEY=…`` with the key ``./run serve``
prints (an organization's key). ``tater scim-tokens list`` then stopped with exit 1
``PERMISSION_DENIED`` ("An organization's API key cannot manage the tenant's SCIM tokens"):
the line ran under the exported key while only its comment said another key was needed.

Each line of that block is run here as written through the CLI entry point against the live
server, only its placeholders filled in (the account's email, its org id, a key named
``tater_…``: the tenant owner's unbound key); a ``VAR=value`` before ``tater`` is that
command's environment, as in a shell. Every line must exit 0."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tater_client.cli import main

from scim.services.tokens import scim_token_create
from tests.factories import PASSWORD, make_key, make_tenant

ROOT = Path(__file__).resolve().parents[2]


def _lines() -> list[str]:
    section = (ROOT / "README.md").read_text().split("### From Python and the command line", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section.split("\n### ", 1)[0], re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_every_documented_tater_command_runs(live_server, monkeypatch, tmp_path, capsys) -> None:
    tenant, owner, (org,) = make_tenant(name="Initech", plan="enterprise")
    _, org_key = make_key(user=owner, tenant=tenant, org=org, name="printed by ./run serve")
    _, unbound_key = make_key(user=owner, tenant=tenant, org=None, name="Tenant-wide cron")
    scim_token_create(tenant=tenant, name="Entra ID", actor=owner)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TATER_URL", live_server.url)
    monkeypatch.setenv("TATER_API_KEY", org_key)
    monkeypatch.setenv("TATER_PASSWORD", PASSWORD)  # what `tater auth token` would ask for

    lines = _lines()
    assert any("scim-tokens list" in line for line in lines)
    for line in lines:
        line = line.replace("owner@example.com", owner.email).replace("org-…", org.public_id)
        line = line.replace("tater_…", unbound_key)
        words = shlex.split(line, comments=True)
        env = {}
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            name, _, value = words.pop(0).partition("=")
            env[name] = value
        assert words[0] == "tater" and "…" not in " ".join(words), line
        with monkeypatch.context() as scoped:
            for name, value in env.items():
                scoped.setenv(name, value)
            code = main(words[1:])
        err = capsys.readouterr().err
        assert code == 0, f"{line}: exit {code}: {err}"

    assert (tmp_path / "audit.csv").read_text().startswith("id,time,channel,action")
