"""Review s43 (mail and the Outbox): links in mail come from the Host header of the request
that sent it (Django's ``build_absolute_uri``, allauth's reset and confirmation links, its
"Hello from <site>"), so ``ALLOWED_HOSTS`` is the only thing between an attacker's Host and
the links Tater mails. Found by review: ``./run serve`` on every address
(``TATER_ADDR=0.0.0.0:…``, how Tater is served from a container) set ``ALLOWED_HOSTS=*``.
Anyone could then ask a password reset for someone else's address with ``Host:
evil.example``: the victim got a genuine Tater mail whose link hands the reset key to the
attacker (account takeover), and an invitation's link in the Outbox pointed there too. The
server now admits this machine's names and addresses only, and ``check --deploy`` warns
when ``ALLOWED_HOSTS`` admits any host (SPEC §8 reset, §11, §12)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core import checks, mail
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
FORGED = "evil.example"


def _deploy_check_ids() -> set[str]:
    return {problem.id for problem in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])}


@pytest.mark.parametrize("hosts", [["*"], ["tater.example.com", "*"]])
def test_check_deploy_warns_when_any_host_is_admitted(settings: Any, hosts: list[str]) -> None:
    settings.ALLOWED_HOSTS = hosts
    assert "tater.W050" in _deploy_check_ids()


def test_check_deploy_is_quiet_with_named_hosts(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["tater.example.com", ".tater.example.com", "10.0.0.5"]
    assert "tater.W050" not in _deploy_check_ids()


@pytest.mark.django_db
def test_what_any_host_would_let_an_attacker_do(
    world: dict[str, Any], settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Why the warning: with ``*`` the victim's reset link names the attacker's host."""
    settings.ALLOWED_HOSTS = ["*"]
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/accounts/password/reset/", {"email": world["member"].email}, HTTP_HOST=FORGED)
    assert f"http://{FORGED}/accounts/password/reset/key/" in mail.outbox[-1].body


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_on_every_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("serve-all-var")
    port = _free_port()
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(TATER_VAR_DIR=str(var), STATIC_ROOT=str(var / "static"), TATER_ADDR=f"0.0.0.0:{port}")
    log = var / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv
            [str(ROOT / "run"), "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert proc.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
        else:
            pytest.fail("./run serve did not start:\n" + log.read_text()[-3000:])
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_run_serve_on_every_address_refuses_a_forged_host(served_on_every_address: str) -> None:
    url = served_on_every_address
    reset = url + "/accounts/password/reset/"
    assert requests.get(reset, headers={"Host": FORGED}, timeout=10).status_code == 400
    forged = requests.post(reset, data={"email": "owner@demo.tater.test"}, headers={"Host": FORGED}, timeout=10)
    assert forged.status_code == 400
    port = url.rsplit(":", 1)[1]
    for name in ("localhost", "127.0.0.1", socket.gethostname()):
        page = requests.get(reset, headers={"Host": f"{name}:{port}"}, timeout=10)
        assert page.status_code == 200, name
