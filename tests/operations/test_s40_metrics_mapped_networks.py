"""SPEC §12: ``/metrics`` answers scrapers from ``TATER_METRICS_ALLOWED_IPS``. Clients are
compared as the rest of the app sees them, so an IPv4 client reached over a dual-stack socket
(``::ffff:10.1.2.3``) is ``10.1.2.3``. An operator who writes the allowlist the way their
dual-stack server logs addresses (``::ffff:10.0.0.0/104``) must get what they wrote: before,
such a network never matched anyone, so their scrapers got 404s, and ``::ffff:0:0/96`` (every
IPv4 address) slipped past the deploy check's "allowlist admits everyone" warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.hardening.test_review_s39_metrics_exposure_check import check_deploy


def status(remote_addr: str) -> int:
    return Client(REMOTE_ADDR=remote_addr).get("/metrics").status_code


@override_settings(TATER_METRICS_ALLOWED_IPS=["::ffff:10.0.0.0/104", "::ffff:192.0.2.7"])
@pytest.mark.parametrize("client", ["10.1.2.3", "::ffff:10.1.2.3", "192.0.2.7"])
def test_ipv4_mapped_network_admits_its_ipv4_clients(client: str) -> None:
    assert status(client) == 200


@override_settings(TATER_METRICS_ALLOWED_IPS=["::ffff:10.0.0.0/104", "::ffff:192.0.2.7"])
@pytest.mark.parametrize("client", ["11.0.0.1", "192.0.2.8", "::ffff:11.0.0.1", "2001:db8::1"])
def test_ipv4_mapped_network_admits_no_one_else(client: str) -> None:
    assert status(client) == 404


def test_every_ipv4_address_written_as_mapped_is_a_deploy_warning(tmp_path: Path) -> None:
    code, output = check_deploy(tmp_path, TATER_METRICS_ALLOWED_IPS="::ffff:0:0/96")
    assert code != 0, output
    assert "tater.W040" in output, output
