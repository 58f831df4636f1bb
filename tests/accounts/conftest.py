"""Helpers for the accounts tests: TOTP codes at a chosen time, enrolled users."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from tests.accounts.dns_server import LoopbackDNS
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import UserFactory


class Clock:
    """Moves django-otp's notion of "now" (TOTP steps and throttling delays)."""

    def __init__(self) -> None:
        self.now = time.time()

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    c = Clock()
    with (
        mock.patch("django_otp.plugins.otp_totp.models.time.time", c),
        mock.patch("django_otp.models.timezone.now") as now,
    ):
        from datetime import UTC, datetime

        now.side_effect = lambda: datetime.fromtimestamp(c.now, tz=UTC)
        yield c


def totp_code(device: TOTPDevice, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return f"{totp.token():0{device.digits}d}"


def enrol(user: Any, at: float | None = None) -> tuple[TOTPDevice, list[str]]:
    """Enrol a TOTP device through the service (as the setup page does)."""
    device = services.totp_enrolment_start(user=user)
    return services.totp_enrolment_confirm(
        user=user, code=totp_code(device, at), shown=services.totp_enrolment_shown(device)
    )


def setup_form(page: Any) -> dict[str, str]:
    """The hidden field of the authenticator's setup page (which QR code it showed), as a
    browser posts it back with the code."""
    found = re.search(r'<input type="hidden" name="shown" value="([^"]*)"', page.content.decode())
    assert found, page.status_code
    return {"shown": found.group(1)}


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory(email="alice@example.com")


# --- Verified domains -------------------------------------------------------------------


@pytest.fixture
def dns(settings: Any) -> Iterator[LoopbackDNS]:
    """A real authoritative DNS server on a free loopback UDP port; Tater's resolver is
    pointed at it for the test and the server is stopped afterwards."""
    with LoopbackDNS() as server:
        settings.TATER_DNS_NAMESERVERS = [server.nameserver]
        settings.TATER_DNS_TIMEOUT = 2.0
        yield server


def verify_domain_via_dns(dns: LoopbackDNS, tenant: Any, owner: Any, domain: str) -> Any:
    """The owner's real flow: add the domain, publish the TXT record it asks for, press Verify."""
    from accounts import domains

    pending = domains.domain_add(tenant=tenant, actor=owner, domain=domain)
    dns.zone.publish(pending.record_name, pending.record_value)
    return domains.domain_verify(tenant_domain=pending, actor=owner)


def verified_domain(tenant: Any, domain: str) -> Any:
    """A verified-domain row for tests about something else (no DNS round trip)."""
    from django.utils import timezone

    from accounts.models import TenantDomain

    return TenantDomain.objects.create(tenant=tenant, domain=domain, verified_at=timezone.now())


@pytest.fixture
def acme_idp() -> Iterator[OIDCProvider]:
    """An OpenID Connect identity provider on loopback (Acme's, in the two-tenant SSO tests)."""
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture
def globex_idp() -> Iterator[OIDCProvider]:
    """A second one (Globex's)."""
    with OIDCProvider() as provider:
        yield provider
