"""The outside proof: scim2-tester (python-scim) run against the live server, through its
Python API and through the ``scim2`` command, with zero checks that are not SUCCESS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from scim.models import ScimGroup, ScimUser
from tests.scim.conftest import make_directory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _report(results: list[Any]) -> str:
    return "\n".join(f"{r.status.name} {r.title} {r.resource_type or ''}: {r.reason}" for r in results)


def test_scim2_tester_finds_nothing_to_fault(live_server: Any) -> None:
    directory = make_directory("Acme", "acme.test")
    # Closed before the test ends: no keep-alive connection outlives the live server's database.
    with Client(base_url=f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {directory.secret}"}) as http:
        results = check_server(SyncSCIMClient(http))
    failures = [r for r in results if r.status != Status.SUCCESS]
    assert not failures, _report(failures)
    titles = {r.title for r in results}
    # Discovery, CRUD and PATCH checks all ran, for both resource types.
    assert {
        "query_all_schemas",
        "object_creation",
        "object_replacement",
        "object_deletion",
        "check_add_attribute",
        "check_remove_attribute",
        "check_replace_attribute",
    } <= titles
    assert {r.resource_type for r in results} >= {"User", "Group"}
    assert len(results) >= 70
    # Everything the tester created in the tenant it also deleted.
    assert not ScimUser.objects.filter(tenant=directory.tenant, deleted_at__isnull=True, user__isnull=True).exists()
    assert not ScimGroup.objects.filter(tenant=directory.tenant).exists()


def test_the_scim2_command_passes(live_server: Any) -> None:
    directory = make_directory("Acme", "acme.test")
    scim2 = shutil.which("scim2", path=str(Path(sys.executable).parent)) or shutil.which("scim2")
    assert scim2, "scim2-cli is not installed (requirements-dev.txt)"
    # The token goes through the environment, not the command line (scim2 --help).
    env = {**os.environ, "SCIM_CLI_HEADERS": f"Authorization: Bearer {directory.secret}"}
    done = subprocess.run(  # noqa: S603 - a fixed command line
        [scim2, "--url", f"{live_server.url}/scim/v2", "test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "SUCCESS" in done.stdout and "ERROR" not in done.stdout
