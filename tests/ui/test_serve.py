"""`./run serve` as someone trying Tater meets it: production settings (DEBUG off, the
product's own error pages, static files from whitenoise), and the demo accounts, keys and
URLs as the last lines before the server starts."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    var = tmp_path_factory.mktemp("serve-var")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "SECRET_KEY")}
    env.update(TATER_VAR_DIR=str(var), STATIC_ROOT=str(var / "static"), TATER_ADDR=f"127.0.0.1:{port}")
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
            except (requests.ConnectionError, requests.Timeout):  # listening before its worker answers
                assert proc.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
        else:
            pytest.fail("./run serve did not start:\n" + log.read_text()[-3000:])
        yield {"url": url, "output": log.read_text()}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_the_last_lines_before_the_server_starts_are_accounts_keys_and_urls(served: dict[str, Any]) -> None:
    output = served["output"]
    before = output.split("Tater is starting on")[0].strip().splitlines()
    tail = "\n".join(before[-25:])
    assert "owner@demo.tater.test" in tail and "viewer@demo.tater.test" in tail
    assert re.search(r"tater_[0-9a-f]{32}", tail) and re.search(r"ak_[0-9a-f]{32}", tail)
    assert f"export TATER_URL={served['url']} TATER_API_KEY=tater_" in tail
    assert f"{served['url']}/accounts/login/" in tail
    assert len(before) <= 30, "\n".join(before)  # no migration chatter or check warnings above them
    key = re.search(r"TATER_API_KEY=(tater_[0-9a-f]{32})", tail).group(1)
    answer = requests.get(served["url"] + "/api/v1/auth/validate", headers={"X-API-Key": key}, timeout=10)
    assert answer.status_code == 200 and answer.json()["valid"] is True


def test_production_error_pages_and_static_files(served: dict[str, Any]) -> None:
    url = served["url"]
    session = requests.Session()
    session.get(url + "/accounts/login/", timeout=10)
    signed_in = session.post(
        url + "/accounts/login/",
        data={
            "login": "viewer@demo.tater.test",
            "password": "tater-demo-password",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=10,
    )
    assert signed_in.status_code == 200 and signed_in.url == url + "/"
    # A viewer opening a key that is not theirs: the product's 404 page, not Django's
    # technical page listing the URL patterns.
    missing = session.get(url + "/keys/key-00000000-0000-0000-0000-000000000000/", timeout=10)
    assert missing.status_code == 404
    assert "Not found · Tater" in missing.text and "URLconf" not in missing.text
    css = re.search(r'href="(/static/css/tater\.[0-9a-f]+\.css)"', missing.text)
    assert css, "static files are served by whitenoise under hashed names"
    assert session.get(url + css.group(1), timeout=10).status_code == 200
