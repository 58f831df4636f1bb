"""``TATER_METRICS_TOKEN`` read from a secret file usually ends with a newline (a Kubernetes
secret made with ``--from-file``, ``echo token > file``), while Prometheus trims the
``credentials_file`` it sends and ``/metrics`` trims the credential it receives: the right
token was then refused with the 404 of an unknown path, and nothing said why (SPEC §12:
``/metrics`` restricted by a bearer token). Surrounding whitespace is not part of the token."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.tater.starting import start

TOKEN = "metrics-token-" + "w" * 32

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("configured", [TOKEN + "\n", TOKEN + "\r\n", f"  {TOKEN}\t"], ids=ascii)
def test_the_token_from_a_file_with_a_newline_admits_the_scraper(configured: str) -> None:
    with override_settings(TATER_METRICS_TOKEN=configured, TATER_METRICS_ALLOWED_IPS=[]):
        r = Client(REMOTE_ADDR="203.0.113.5").get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert r.status_code == 200
    assert b"tater_http_requests_total" in r.content


@override_settings(TATER_METRICS_TOKEN="   \n", TATER_METRICS_ALLOWED_IPS=[])
def test_a_blank_token_is_no_token() -> None:
    assert Client(REMOTE_ADDR="203.0.113.5").get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_the_setting_is_read_without_the_newline() -> None:
    done = start("repr(settings.TATER_METRICS_TOKEN)", TATER_METRICS_TOKEN=TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(TOKEN)
