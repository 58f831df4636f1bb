"""``/metrics`` (SPEC §12): Prometheus text with requests and latency by URL pattern,
method and status class, key-authentication outcomes by catalog code, rate-limit refusals
and lockouts; readable from the allowed networks (loopback by default) or with the bearer
token, a 404 like any unknown path for everyone else."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apikeys import services as key_services
from apikeys.models import ApiKey
from tater import context
from tater.operations.middleware import OperationsMiddleware
from tests.factories import make_key

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

KEY_ROUTE = "/api/v1/keys/<str:key_id>/"
VALIDATE_ROUTE = "/api/v1/auth/validate"


def scrape(client: Client | None = None, **headers: Any) -> tuple[str, Samples]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class Delta:
    """Metric values now minus at creation."""

    def __init__(self) -> None:
        self.before = scrape()[1]

    def __call__(self, name: str, **labels: str) -> float:
        self.after = scrape()[1]
        return value(self.after, name, **labels) - value(self.before, name, **labels)


# --- What is counted ---------------------------------------------------------------------------


def test_requests_and_latency_by_route_pattern_never_raw_path(keyworld: dict[str, Any]) -> None:
    delta = Delta()
    client = Client()
    public_id = keyworld["key"].public_id
    for _ in range(2):
        assert client.get(f"/api/v1/keys/{public_id}/", HTTP_X_API_KEY=keyworld["raw"]).status_code == 200
    assert client.get("/api/v1/keys/key_doesnotexist/", HTTP_X_API_KEY=keyworld["raw"]).status_code == 404
    labels = {"route": KEY_ROUTE, "method": "GET"}
    assert delta("tater_http_requests_total", **labels, status_class="2xx") == 2
    assert delta("tater_http_requests_total", **labels, status_class="4xx") == 1
    assert delta("tater_http_request_duration_seconds_count", **labels, status_class="2xx") == 2
    assert delta("tater_http_request_duration_seconds_sum", **labels, status_class="2xx") > 0
    assert (
        value(delta.after, "tater_http_request_duration_seconds_bucket", **labels, status_class="2xx", le="+Inf") >= 2
    )
    text, _ = scrape()
    assert public_id not in text and "key_doesnotexist" not in text


def test_labels_stay_bounded(keyworld: dict[str, Any]) -> None:
    """Unknown paths share one label, odd methods another: a scanner cannot mint series."""
    delta = Delta()
    client = Client()
    for _ in range(3):
        client.get(f"/no/such/{secrets.token_hex(8)}/")
    client.generic("BREW", "/api/v1/health")
    assert delta("tater_http_requests_total", route="<unmatched>", method="GET", status_class="4xx") == 3
    assert delta("tater_http_requests_total", route="/api/v1/health", method="OTHER", status_class="4xx") == 1
    routes = {dict(labels)["route"] for name, labels in delta.after if name == "tater_http_requests_total"}
    assert not any("/no/such/" in route for route in routes)


def test_probes_and_scrapes_are_counted_too() -> None:
    delta = Delta()
    Client().get("/healthz")
    assert delta("tater_http_requests_total", route="/healthz", method="GET", status_class="2xx") == 1
    # Delta's own first scrape, under its own route, seen by its second (a scrape is counted
    # once it is answered, so a process's very first one is not in its own answer).
    labels = {"route": "/metrics", "method": "GET", "status_class": "2xx"}
    assert (
        value(delta.after, "tater_http_requests_total", **labels)
        - value(delta.before, "tater_http_requests_total", **labels)
        == 1
    )


def test_key_auth_outcomes_by_catalog_code(keyworld: dict[str, Any]) -> None:
    tenant, owner, org = keyworld["tenant"], keyworld["owner"], keyworld["org"]
    revoked, revoked_raw = make_key(user=owner, tenant=tenant, org=org, name="revoked")
    key_services.apikey_revoke(api_key=revoked, actor=owner)
    inactive, inactive_raw = make_key(user=owner, tenant=tenant, org=org, name="inactive")
    key_services.apikey_set_active(api_key=inactive, actor=owner, active=False)
    expired, expired_raw = make_key(user=owner, tenant=tenant, org=org, name="expired")
    ApiKey.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    _, fenced_raw = make_key(user=owner, tenant=tenant, org=org, name="fenced", allowed_ips=["10.0.0.0/8"])
    _, narrow_raw = make_key(user=owner, tenant=tenant, org=org, name="narrow", scopes=["scans:read"])

    delta = Delta()
    client = Client()
    expected = [
        (keyworld["raw"], 200, ""),
        (None, 401, "UNAUTHORIZED"),
        ("tater_" + "0" * 32, 401, "UNAUTHORIZED"),
        (revoked_raw, 401, "KEY_REVOKED"),
        (expired_raw, 401, "KEY_EXPIRED"),
        (inactive_raw, 401, "KEY_INACTIVE"),
        (fenced_raw, 403, "IP_NOT_ALLOWED"),
        (narrow_raw, 403, "PERMISSION_DENIED"),  # authenticated, then refused: an "ok" outcome
    ]
    for raw, status, code in expected:
        headers = {"HTTP_X_API_KEY": raw} if raw else {}
        response = client.get("/api/v1/keys/", **headers)
        assert response.status_code == status, (raw, response.content)
        assert response.json().get("error", "") == code
    assert delta("tater_key_auth_total", outcome="ok") == 2
    assert delta("tater_key_auth_total", outcome="UNAUTHORIZED") == 2
    for outcome in ("KEY_REVOKED", "KEY_EXPIRED", "KEY_INACTIVE", "IP_NOT_ALLOWED"):
        assert delta("tater_key_auth_total", outcome=outcome) == 1, outcome
    assert delta("tater_key_auth_total", outcome="LOCKED_OUT") == 0
    # Session-less requests that authenticate nobody are not key-auth outcomes.
    client.get("/api/v1/health")
    assert delta("tater_key_auth_total", outcome="ok") == 2


def test_rate_limit_refusals(keyworld: dict[str, Any]) -> None:
    _, raw = make_key(
        user=keyworld["owner"], tenant=keyworld["tenant"], org=keyworld["org"], name="slow", rate_limit="2/min"
    )
    delta = Delta()
    client = Client()
    statuses = [client.get("/api/v1/auth/validate", HTTP_X_API_KEY=raw).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert delta("tater_rate_limit_refusals_total", code="RATE_LIMITED", route=VALIDATE_ROUTE) == 1
    assert delta("tater_key_auth_total", outcome="ok") == 3  # the refused one was authenticated too
    assert delta("tater_http_requests_total", route=VALIDATE_ROUTE, method="GET", status_class="4xx") == 1


@override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3)
def test_lockouts(keyworld: dict[str, Any]) -> None:
    delta = Delta()
    client = Client(REMOTE_ADDR="198.51.100.23")
    codes = [client.get("/api/v1/keys/", HTTP_X_API_KEY=f"tater_{i:032x}").json()["error"] for i in range(4)]
    assert codes == ["UNAUTHORIZED", "UNAUTHORIZED", "LOCKED_OUT", "LOCKED_OUT"]
    assert delta("tater_rate_limit_refusals_total", code="LOCKED_OUT", route="/api/v1/keys/") == 2
    assert delta("tater_key_auth_total", outcome="LOCKED_OUT") == 2
    assert delta("tater_key_auth_total", outcome="UNAUTHORIZED") == 2
    # The valid key is never locked out.
    assert client.get("/api/v1/keys/", HTTP_X_API_KEY=keyworld["raw"]).status_code == 200


# --- Who may read it ---------------------------------------------------------------------------


def assert_hidden(response: Any) -> None:
    unknown = Client().get("/no-such-page-at-all")
    assert response.status_code == 404 == unknown.status_code
    assert response["Content-Type"] == unknown["Content-Type"]
    assert b"tater_http_requests" not in response.content


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_reads_metrics_by_default(address: str) -> None:
    text, _ = scrape(Client(REMOTE_ADDR=address))
    assert "# TYPE tater_http_requests_total counter" in text
    assert "# TYPE tater_http_request_duration_seconds histogram" in text
    assert "# TYPE tater_key_auth_total counter" in text
    assert "# TYPE tater_rate_limit_refusals_total counter" in text


def test_other_addresses_get_the_404_of_an_unknown_path() -> None:
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    assert_hidden(stranger.get("/metrics"))
    assert stranger.post("/metrics").status_code == 404  # not a 405 that would give it away
    assert Client().post("/metrics").status_code == 405


@override_settings(TATER_METRICS_TOKEN="metrics-token-" + "x" * 24)
def test_bearer_token_admits_any_address() -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    scrape(client, HTTP_AUTHORIZATION="Bearer metrics-token-" + "x" * 24)
    assert_hidden(client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-" + "x" * 23))
    assert_hidden(client.get("/metrics", HTTP_AUTHORIZATION="Basic metrics-token-" + "x" * 24))
    assert_hidden(client.get("/metrics"))


@override_settings(TATER_METRICS_ALLOWED_IPS=[])
def test_empty_allowlist_means_token_only() -> None:
    assert_hidden(Client().get("/metrics"))


@override_settings(TATER_METRICS_ALLOWED_IPS=["10.0.0.0/8", "2001:db8::/32"])
def test_allowlist_of_networks() -> None:
    scrape(Client(REMOTE_ADDR="10.20.30.40"))
    scrape(Client(REMOTE_ADDR="2001:db8::7"))
    assert_hidden(Client(REMOTE_ADDR="127.0.0.1").get("/metrics"))
    assert_hidden(Client(REMOTE_ADDR="11.0.0.1").get("/metrics"))


def test_forwarded_request_is_not_admitted_by_the_proxys_address() -> None:
    """A reverse proxy on the same host makes every client look like loopback: without
    TATER_TRUSTED_PROXY_COUNT, a forwarded request is not admitted by address."""
    assert_hidden(Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9"))
    assert_hidden(Client().get("/metrics", HTTP_X_REAL_IP="127.0.0.1"))


@override_settings(TATER_TRUSTED_PROXY_COUNT=1, TATER_METRICS_ALLOWED_IPS=["10.0.0.0/8"])
def test_behind_trusted_proxies_the_client_address_decides() -> None:
    scrape(Client(), HTTP_X_FORWARDED_FOR="10.9.8.7")
    assert_hidden(Client().get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9"))
    assert_hidden(Client().get("/metrics", HTTP_X_FORWARDED_FOR="10.9.8.7, 203.0.113.9"))


@override_settings(TATER_METRICS_ALLOWED_IPS=["10.0.0.0/33"])
def test_bad_cidr_fails_at_start_up() -> None:
    with pytest.raises(ImproperlyConfigured, match="TATER_METRICS_ALLOWED_IPS"):
        Client().get("/healthz")


# --- Cost --------------------------------------------------------------------------------------


def test_per_request_overhead_is_a_few_microseconds(capsys: pytest.CaptureFixture[str]) -> None:
    """The middleware around a view that does nothing, access log off: what every request
    pays for its metrics (route label, label children, inc, observe, auth outcome)."""
    request = RequestFactory().get("/api/v1/keys/key_abc/")
    request.resolver_match = resolve("/api/v1/keys/key_abc/")
    request.request_id = "0" * 32
    answer = HttpResponse(b"{}", content_type="application/json")
    middleware = OperationsMiddleware(lambda r: answer)
    access = logging.getLogger("tater.access")
    level = access.level
    access.setLevel(logging.WARNING)
    n, best = 5000, float("inf")
    try:
        with context.use(context.RequestContext(channel="api", ip="127.0.0.1", api_key_id=1)):
            for _ in range(5):
                started = time.perf_counter()
                for _ in range(n):
                    middleware(request)
                best = min(best, (time.perf_counter() - started) / n)
    finally:
        access.setLevel(level)
    with capsys.disabled():
        print(f"\n[operations] metrics middleware: {best * 1e6:.1f} us per request (best of 5 x {n})")
    # A few microseconds on a quiet machine; generous here for a loaded CI box.
    assert best < 30e-6
