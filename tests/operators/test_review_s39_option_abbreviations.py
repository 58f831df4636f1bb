"""SPEC §10: operator commands with ``--json`` answer one JSON object on stdout, success or
failure. argparse let any unambiguous prefix stand for an option, but only ``--json``
spelled in full turned the error answers into JSON: ``--js`` gave JSON on success and a
usage text on failure, and a script could never be sure which it would read. Abbreviations
are refused by every Tater command: ``--js`` is an unknown option, ``--ten`` is not
``--tenant``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each command with its required arguments, so ``--js`` is the only thing wrong.
COMMANDS = [
    ["create_tenant", "--name", "Initech", "--owner-email", "a@b.test"],
    ["create_org", "--tenant", "t", "--name", "Ops"],
    ["create_api_key", "--user", "a@b.test", "--tenant", "t"],
    ["revoke_api_key", "key-x"],
    ["bootstrap_demo"],
    ["create_scim_token", "--tenant", "t"],
    ["purge_audit", "--older-than", "30d"],
    ["verify_audit", "--all"],
]


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", "TATER_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda args: args[0])
def test_an_abbreviated_json_flag_is_not_json(tmp_path: Path, command: list[str]) -> None:
    done = manage(tmp_path, *command, "--js")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unrecognized arguments: --js" in done.stderr


def test_with_json_an_abbreviated_option_is_a_json_error(tmp_path: Path) -> None:
    # create_tenant needs no database row to exist: with abbreviations it would succeed.
    done = manage(tmp_path, "create_tenant", "--na", "Initech", "--owner-e", "a@b.test", "--json")
    assert done.returncode != 0
    answer = json.loads(done.stdout)
    assert answer["error"] == "VALIDATION_ERROR"
    assert "--na" in answer["message"] or "--name" in answer["message"]
