"""SPEC §10: operator commands have ``--json`` output; a script reads stdout as one JSON object,
on success and on failure alike. A bad argument (an option the command does not take, an
invalid ``--type``/``--plan`` choice, a required one missing, two that exclude each other, a
non-numeric ``--days``) was reported by argparse alone: a usage text on stderr, exit 2 and an
empty stdout, so ``json.loads`` of the answer failed. With ``--json`` stdout now holds the
error object as for every other failure; the exit code stays non-zero and without ``--json``
nothing changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BAD = [
    ["create_api_key", "--user", "a@b.test", "--tenant", "t", "--type", "bogus"],
    ["create_api_key", "--user", "a@b.test"],
    ["create_api_key", "--user", "a@b.test", "--tenant", "t", "--expires-in", "1d", "--expires-at", "2030-01-01"],
    ["revoke_api_key"],
    ["create_tenant", "--name", "Initech", "--owner-email", "a@b.test", "--plan", "platinum"],
    ["create_org", "--tenant", "t"],
    ["send_key_expiry_notices", "--days", "abc"],
    ["purge_audit"],
    ["verify_audit"],
    ["setup_db_roles"],
    ["create_scim_token"],
    ["bootstrap_demo", "--no-such-option"],
]


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": "", "REDIS_URL": "", "TATER_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("args", BAD, ids=lambda args: " ".join(args[:1] + args[-2:]))
def test_a_bad_argument_is_a_json_error_with_json(tmp_path: Path, args: list[str]) -> None:
    done = manage(tmp_path, *args, "--json")
    assert done.returncode != 0
    answer = json.loads(done.stdout)  # the whole of stdout: one object, nothing else
    assert answer["error"] == "VALIDATION_ERROR"
    assert answer["message"] and not answer["message"].startswith("Error:")
    assert answer["message"] in done.stderr  # a person reading the terminal sees it too


def test_without_json_argparse_answers_as_before(tmp_path: Path) -> None:
    done = manage(tmp_path, "create_api_key", "--user", "a@b.test", "--tenant", "t", "--type", "bogus")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "usage: manage.py create_api_key" in done.stderr
    assert "invalid choice: 'bogus'" in done.stderr
