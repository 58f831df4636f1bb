"""Schemathesis against the app's own OpenAPI schema, in process through the WSGI app.

Every operation gets the schema's examples, the coverage phase (boundary values, missing
and wrong-typed fields, undeclared methods) and a bounded number of generated cases,
all with a valid owner key (full access, org-bound). Checks: no 5xx, status code,
content type and response schema conformance, negative data rejected, undeclared methods
answer 405, auth not ignored, and every error body in the catalog format.

Also the strict cross-check between the URL conf and the schema: every /api/v1 route is
documented and every documented route exists.
"""

from __future__ import annotations

import os
import random
import re
from typing import Any

import pytest
import schemathesis

from tests.hardening import report
from tests.hardening.matrix import api_endpoints
from tests.hardening.world import World, build_world
from tests.state import reset_shared_state

# Bounded so the whole fuzz run stays well under two minutes (FUZZ_MAX_EXAMPLES raises it).
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
# A fixed seed keeps CI reproducible (a failure names its cases again on the next run);
# FUZZ_SEED=random explores new inputs locally.
_SEED = os.environ.get("FUZZ_SEED", "20261123")
FUZZ_SEED = random.SystemRandom().getrandbits(63) if _SEED == "random" else int(_SEED)
SCHEMA_PATH = "/api/schema/?format=json"
EXAMPLES_RUN: dict[str, int] = {}


@schemathesis.check
def catalog_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every API error is ``{"error": CODE, "message": TEXT, ...}`` (SPEC §3)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except Exception as exc:  # noqa: BLE001 - any undecodable body is the failure we report
        raise AssertionError(f"error response is not JSON: {response.content[:200]!r}") from exc
    assert isinstance(body, dict), f"error body is not an object: {body!r}"
    assert isinstance(body.get("error"), str) and re.fullmatch(r"[A-Z0-9_]+", body["error"]), (
        f"bad error code: {body!r}"
    )
    assert isinstance(body.get("message"), str) and body["message"], f"missing message: {body!r}"
    assert "Traceback" not in response.text, "traceback in an error body"
    return True


@pytest.fixture
def fuzz_world(transactional_db: Any, settings: Any) -> World:
    # Fuzzing sends far more requests per minute than a plan allows: lift the limits
    # (they have their own tests) so every answer is about the request itself.
    settings.TATER_PLAN_RATE_LIMITS = {plan: (10**7, 10**8) for plan in ("free", "pro", "enterprise")}
    return build_world()


ENABLED_CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "ignored_auth",
    "catalog_error_body",
]


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    # Lockout and limit counters must not carry over between generated cases.
    reset_shared_state()


@pytest.fixture
def wsgi_transport_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    """schemathesis 4.32.5's engine hands socket-level options (max_redirects, verify,
    cert, proxies) to the WSGI transport, which forwards them to werkzeug and fails; it
    only drops them when a requests session is given. Drop them here too."""
    from schemathesis.transport.wsgi import WSGITransport

    original = WSGITransport.send

    def send(self: Any, case: Any, *args: Any, **kwargs: Any) -> Any:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return original(self, case, *args, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send)


@pytest.mark.slow
def test_fuzz_api(fuzz_world: World, wsgi_transport_fix: None) -> None:
    """The schemathesis engine (examples, coverage and fuzzing phases; what the CLI runs),
    in process against the WSGI app and this test's database."""
    from schemathesis.engine import Status, from_schema
    from schemathesis.engine import events as ev

    from tater.wsgi import application

    config = schemathesis.Config.from_dict(
        {
            "headers": {"X-API-Key": fuzz_world.raw["full"]},
            "suppress-health-check": ["all"],
            "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in ENABLED_CHECKS}},
            "workers": 1,
            "seed": FUZZ_SEED,
        }
    )
    schema = schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=config)
    failures: dict[str, set[str]] = {}
    errors: list[str] = []
    cases = 0
    for event in from_schema(schema).execute():
        if isinstance(event, ev.ScenarioFinished):
            cases += len(event.recorder.cases)
            label = event.label or "?"
            EXAMPLES_RUN[label] = EXAMPLES_RUN.get(label, 0) + len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.setdefault(label, set()).add(f"{check.name}: {failure.title} {failure.message[:300]}")
        elif isinstance(event, ev.NonFatalError):
            errors.append(
                f"{event.label}: {event.info.format()[:500] if hasattr(event.info, 'format') else event.value}"
            )
        elif isinstance(event, ev.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    report.FIGURES["fuzz: requests"] = cases
    report.FIGURES["fuzz: seed"] = config.seed
    report.FIGURES["fuzz: operations"] = len(EXAMPLES_RUN)
    report.FIGURES["fuzz: operations with failures"] = len(failures)
    assert cases > 0 and EXAMPLES_RUN, "the fuzzer generated no case"
    lines = [f"{label}\n    " + "\n    ".join(sorted(found)) for label, found in sorted(failures.items())]
    assert not errors and not failures, "\n".join(errors + lines)


# --- Schema ↔ URL conf cross-check ---------------------------------------------------------


def _schema_paths(client: Any) -> dict[str, set[str]]:
    response = client.get(SCHEMA_PATH)
    assert response.status_code == 200, response.content[:300]
    paths = response.json()["paths"]
    return {p: {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")} for p, ops in paths.items()}


def _normalise(route: str) -> str:
    return re.sub(r"\{[^}]+\}|<(?:\w+:)?\w+>", "{}", route)


@pytest.mark.django_db
def test_every_route_is_documented_and_every_documented_route_exists(client: Any) -> None:
    documented = {_normalise(p): methods for p, methods in _schema_paths(client).items() if p.startswith("/api/v1/")}
    routed = {_normalise(ep.route): {m for m in ep.methods if m != "OPTIONS"} for ep in api_endpoints()}
    missing = {route: sorted(methods - documented.get(route, set())) for route, methods in routed.items()}
    missing = {route: methods for route, methods in missing.items() if methods}
    phantom = {route: sorted(methods - routed.get(route, set())) for route, methods in documented.items()}
    phantom = {route: methods for route, methods in phantom.items() if methods}
    assert not missing, f"routes (and methods) missing from the OpenAPI schema: {missing}"
    assert not phantom, f"documented in the OpenAPI schema but not routed: {phantom}"


@pytest.mark.django_db
def test_schema_declares_the_api_key_scheme(client: Any) -> None:
    schema_doc = client.get(SCHEMA_PATH).json()
    schemes = schema_doc.get("components", {}).get("securitySchemes", {})
    assert any(
        s.get("type") == "apiKey" and s.get("name") == "X-API-Key" and s.get("in") == "header" for s in schemes.values()
    ), schemes
