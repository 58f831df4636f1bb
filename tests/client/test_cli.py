"""The ``tater`` command, run as a subprocess against the live server with ``TATER_URL``
and ``TATER_API_KEY`` in its environment."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tater_client.cli import main

from .conftest import bulk_audit

PAYLOAD = Path(__file__).resolve().parents[2] / "examples" / "scan-payload.json"


@pytest.fixture
def run(acme, tmp_path):
    def tater(*args: str, key: str | None = None, url: str | None = None, stdin: bytes | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TATER_")}
        env["TATER_URL"] = url or acme.url
        if key != "":
            env["TATER_API_KEY"] = key or acme.owner_raw
        return subprocess.run(  # noqa: S603 - a fixed command line
            [sys.executable, "-m", "tater_client.cli", *args],
            env=env,
            input=stdin,
            capture_output=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
        )

    return tater


def out(done) -> str:
    return done.stdout.decode()


def err(done) -> str:
    return done.stderr.decode()


def test_validate(run, acme):
    done = run("validate")
    assert done.returncode == 0, err(done)
    assert acme.owner_key.public_id in out(done) and "keys:write" in out(done)
    done = run("validate", "--json")
    assert json.loads(out(done))["id"] == acme.owner_key.public_id
    assert json.loads(out(run("--json", "validate")))["valid"] is True


def test_keys_create_list_get_rotate_revoke(run, acme):
    done = run(
        "keys",
        "create",
        "--name",
        "cli key",
        "--scopes",
        "scans:read,keys:read",
        "--expires-at",
        "2099-01-01T00:00:00Z",
        "--json",
    )
    assert done.returncode == 0, err(done)
    created = json.loads(out(done))
    assert created["key"].startswith("tater_") and created["scopes"] == ["keys:read", "scans:read"]
    assert "only time" in err(done)

    listed = json.loads(out(run("keys", "list", "--status", "active", "--type", "standard", "--json")))
    assert created["id"] in [k["id"] for k in listed["keys"]]
    table = out(run("keys", "list", "--all"))
    assert table.splitlines()[0].split()[:3] == ["ID", "NAME", "TYPE"] and created["id"] in table
    assert "cli key" in out(run("keys", "get", created["id"]))

    rotated = run("keys", "rotate", created["id"], "--grace-period", "0")
    assert rotated.returncode == 0 and "key:" in out(rotated)
    new_secret = next(line.split()[-1] for line in out(rotated).splitlines() if line.startswith("key:"))
    assert new_secret.startswith("tater_") and new_secret != created["key"]
    assert run("validate", key=new_secret).returncode == 0

    done = run("keys", "revoke", created["id"])
    assert done.returncode == 0 and "status=revoked" in out(done)
    done = run("validate", key=new_secret)
    assert done.returncode == 1 and "KEY_REVOKED" in err(done)


def test_keys_deactivate(run, acme):
    _, raw = acme.key(scopes=["scans:read"], name="to pause")
    key_id = json.loads(out(run("validate", "--json", key=raw)))["id"]
    assert "status=inactive" in out(run("keys", "deactivate", key_id))
    assert "KEY_INACTIVE" in err(run("validate", key=raw))
    done = run("keys", "activate", key_id)
    assert done.returncode == 1 and "PERMISSION_DENIED" in err(done)


def test_scans_upload_list_get(run, acme):
    done = run("scans", "upload", str(PAYLOAD), "--organization", acme.org.public_id, "--tenant", acme.tenant.public_id)
    assert done.returncode == 0, err(done)
    assert "3 findings" in out(done)
    scan_id = out(done).split()[0]
    assert scan_id in out(run("scans", "list")) and scan_id.startswith("scan-")
    assert "CVE-2018-15473" in out(run("scans", "get", scan_id))
    piped = run("scans", "upload", "-", "--json", stdin=PAYLOAD.read_bytes())
    assert json.loads(out(piped))["finding_count"] == 3


def test_audit_export_streams_csv(run, acme, tmp_path):
    bulk_audit(acme, 500)
    done = run("audit", "export", "--since", "2000-01-01", "--output", "audit.csv")
    assert done.returncode == 0, err(done)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "audit.csv").read_text(encoding="utf-8"))))
    assert sum(r["action"] == "api_key.updated" for r in rows) == 500
    assert "wrote" in err(done)

    stdout = run("audit", "export", "--since", "2000-01-01", "--action", "api_key.updated", "--until", "2099-01-01")
    assert len(list(csv.DictReader(io.StringIO(out(stdout))))) == 500
    listed = run("audit", "list", "--action", "api_key.updated", "--limit", "3")
    assert len(out(listed).splitlines()) == 4 and "--cursor" in err(listed)


def test_api_errors_exit_1_with_code_and_request_id(run):
    done = run("keys", "list", key="tater_" + "0" * 32)
    assert done.returncode == 1
    assert "UNAUTHORIZED: Invalid token" in err(done) and "request id: " in err(done)
    done = run("keys", "list", "--json", key="tater_" + "0" * 32)
    body = json.loads(err(done))
    assert (body["error"], body["status"]) == ("UNAUTHORIZED", 401) and body["request_id"]

    done = run("keys", "create", "--name", "x", "--scopes", "spaceships:write")
    assert done.returncode == 1 and "VALIDATION_ERROR" in err(done) and "  scopes:" in err(done)


def test_usage_errors_exit_2(run, tmp_path):
    done = run("validate", key="")
    assert done.returncode == 2 and "TATER_API_KEY" in err(done)
    done = run("scans", "upload", str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "cannot read" in err(done)


@pytest.mark.parametrize(
    "argv",
    [[], ["frobnicate"], ["keys"], ["keys", "create"], ["audit", "export"], ["keys", "list", "--status", "lost"]],
    ids=["nothing", "unknown command", "no action", "no --name", "no --since", "bad choice"],
)
def test_bad_command_lines_exit_2(argv, monkeypatch, capsys):
    monkeypatch.setenv("TATER_API_KEY", "tater_" + "0" * 32)
    try:
        code = main(argv)
    except SystemExit as exit:
        code = exit.code
    assert code == 2
    assert "usage: tater" in capsys.readouterr().err


def test_the_installed_script(acme):
    script = shutil.which("tater", path=str(Path(sys.executable).parent))
    assert script, "the tater-client package is not installed (requirements-dev.txt)"
    env = {**os.environ, "TATER_URL": acme.url, "TATER_API_KEY": acme.owner_raw}
    done = subprocess.run([script, "validate", "--json"], env=env, capture_output=True, timeout=60, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["id"] == acme.owner_key.public_id
