"""The access matrix (OWASP API1/API5: object- and function-level authorization).

Callers × operations × target relations, with every expectation stated from the SPEC in
``matrix_spec`` (roles, scopes, key types, org resolution, who may act on which key). This
module never imports the permission code under test: the URL conf is read only to check
that every API endpoint and method has operations in the table (a new endpoint without
rows fails), and the world is built with the factories and services.

Each cell checks the status and catalog error code; for refused operations that nothing in
the database changed; for allowed ones that exactly the implied change happened; that a
key secret appears only in create/rotate answers to the key's owner; and that no 2xx body
carries the other tenant's identifiers. Cells run in rolled-back savepoints over one
population built per module.

The seed systems' own paths outside ``/api/`` (SPEC §5a: Tatry's ``/v1/auth/*``, taap.it's
``/v1/workspaces``, Taffy's ``/auth/token``) are walked by ``test_surface_matrix`` with these
callers and tables, in each surface's envelope.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.hardening import matrix_spec as spec
from tests.hardening import report
from tests.hardening.matrix import (
    Clients,
    Endpoint,
    api_endpoints,
    describe,
    path_of,
    reset_between_cells,
    rolled_back_population,
    run_cell,
)
from tests.hardening.matrix_world import MatrixWorld, build_matrix_world

ENDPOINTS = api_endpoints(prefix="api/")
BY_NAME = {ep.name: ep for ep in ENDPOINTS}

# Endpoints outside the key/session model, reviewed one by one; each is still probed
# anonymously (no 5xx, catalog errors, no tenant data) by test_exempt_endpoints_answer_sanely.
EXEMPT: dict[str, str] = {
    "api-health": "open liveness probe: no authentication, no tenant data",
    "api-auth-login": "authenticates by email + password (credentials in the body), then sets a session",
    "api-auth-verify-2fa": "second step of the login: authenticates by the login token + OTP code",
    "api-auth-token": "credential exchange: authenticates by email + password (+ OTP), returns a new key",
    "api-auth-logout": "ends the caller's own session: no tenant data",
    "api-auth-webauthn-options": "second step of the login: authenticates by the login token; a passkey challenge, no tenant data",
    "api-schema": "the OpenAPI document: public, no tenant data",
    "api-docs": "the interactive documentation page: public, no tenant data",
    "api-secret-scanning-github": "GitHub's secret-scanning partner protocol: authenticated by GitHub's signature (SPEC §14)",
    # TigerTrust's paths (SPEC §5a): the same views as the exempt api-auth-* ones, in its envelope.
    "tigertrust-login": "TigerTrust's path of api-auth-login (same view, its envelope)",
    "tigertrust-verify-2fa": "TigerTrust's path of api-auth-verify-2fa (same view, its envelope)",
    "tigertrust-logout": "TigerTrust's path of api-auth-logout (same view, its envelope)",
    "tigertrust-google": "redirect into Google sign-in (or a JSON 404 when not configured): no tenant data",
    "tigertrust-google-callback": "allauth's Google callback behind TigerTrust's path: no tenant data",
}


def _how_to_cover(ep: Endpoint, methods: list[str]) -> str:
    return (
        f"API endpoint {ep.name!r} ({ep.route}) has no access-matrix rows for {', '.join(methods)}. Add an Op to "
        f"tests/hardening/matrix_spec.py OPS (scope, admitted key types, org resolution, target relations) with the "
        f"rule the SPEC gives it, a body in tests/hardening/matrix.py, or exempt it in EXEMPT with the reason."
    )


def test_every_api_endpoint_is_covered() -> None:
    assert ENDPOINTS, "no /api/ endpoint found: the URL conf walk is broken"
    covered = {(op.endpoint, op.method) for op in spec.OPS}
    problems = []
    for ep in ENDPOINTS:
        if ep.name in EXEMPT:
            continue
        missing = [m for m in ep.methods if m != "OPTIONS" and (ep.name, m) not in covered]
        if missing:
            problems.append(_how_to_cover(ep, missing))
    stale = sorted(
        {
            f"{op.name}: {op.endpoint} {op.method}"
            for op in spec.OPS
            if op.endpoint not in BY_NAME or op.method not in BY_NAME[op.endpoint].methods
        }
    )
    if stale:
        problems.append(f"operations for endpoints or methods that do not exist: {stale}")
    assert not problems, "\n".join(problems)


def test_spec_tables_are_consistent() -> None:
    """The hand-written grids agree with the relations the world can build."""
    problems = []
    for name, row in spec.REACH.items():
        caller = spec.CALLER[name]
        for relation, cell in row.items():
            exists = spec.key_target(caller, relation) is not None
            if (cell == "-") == exists:
                problems.append(
                    f"REACH[{name}][{relation}] is {cell!r} but the relation {'exists' if exists else 'does not exist'}"
                )
    for caller in spec.CALLERS:
        if spec.KEY in caller.only and not caller.one_target and caller.name not in spec.REACH:
            problems.append(f"{caller.name} acts on keys but has no REACH row")
    key_ops = {op.name for op in spec.OPS if op.group == spec.KEY}
    if key_ops != set(spec.ACTIONS):
        problems.append(f"ACTIONS rows {sorted(set(spec.ACTIONS))} differ from the key operations {sorted(key_ops)}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def matrix_world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One population for the whole module, rolled back at the end."""
    with rolled_back_population(django_db_blocker, build_matrix_world, Clients, spec.CALLERS) as population:
        yield population


@pytest.mark.django_db
@pytest.mark.parametrize("op", spec.OPS, ids=lambda op: op.name)
def test_access_matrix(matrix_world: Any, op: spec.Op) -> None:
    w, clients = matrix_world
    ep = BY_NAME.get(op.endpoint)
    if ep is None or op.method not in ep.methods:
        pytest.fail(
            f"{op.name}: {op.endpoint} {op.method} is not an API endpoint-method (see test_every_api_endpoint_is_covered)"
        )
    problems = []
    for cell in spec.cells_for(op):
        status, code, cell_problems = run_cell(w, clients, ep, cell)
        want = cell.outcome
        report.record(
            report.CellResult(
                op=op.name,
                endpoint=ep.name,
                method=op.method,
                caller=cell.caller.name,
                relation=cell.relation or "-",
                expected=describe(want.status, want.code) + (" +secret" if want.secret else ""),
                got=describe(status, code),
                problems=tuple(cell_problems),
                note=want.note,
            )
        )
        if cell_problems:
            problems.append(f"  {cell.caller.name:<30} {cell.relation or '-':<16} " + " ; ".join(cell_problems))
    assert not problems, (
        f"{op.name} ({op.method} {ep.route}): {len(problems)} cells differ from the SPEC\n" + "\n".join(problems)
    )


def _markers(w: MatrixWorld) -> list[str]:
    return (
        [t.public_id for t in w.tenants.values()]
        + [o.public_id for o in w.orgs.values()]
        + [u.email for u in w.users.values()]
    )


@pytest.mark.django_db
def test_exempt_endpoints_answer_sanely(matrix_world: Any) -> None:
    """Exempt endpoints, called anonymously with an empty body: never a 5xx, errors in the
    catalog format, and a 2xx body never carries tenant data."""
    w, _ = matrix_world
    api = APIClient()
    problems = []
    for ep in ENDPOINTS:
        if ep.name not in EXEMPT:
            continue
        for method in ep.methods:
            if method == "OPTIONS":
                continue
            reset_between_cells()
            call = getattr(api, method.lower())
            response = call(ep.route, data="{}", content_type="application/json") if method != "GET" else call(ep.route)
            report.PROBES.append(f"{ep.name} {method}")
            status = response.status_code
            is_json = response.get("Content-Type", "").startswith("application/json")
            data = response.json() if is_json and response.content else {}
            if status >= 500:
                problems.append(f"{ep.name} {method}: {status}")
            elif status >= 400 and not (isinstance(data, dict) and {"error", "message"} <= set(data)):
                problems.append(f"{ep.name} {method}: error body not in the catalog format: {data}")
            elif status < 300 and any(m in response.content.decode(errors="replace") for m in _markers(w)):
                problems.append(f"{ep.name} {method}: 2xx with tenant data")
    assert not problems, problems


@pytest.mark.django_db
@pytest.mark.parametrize("ep", [e for e in ENDPOINTS if e.name not in EXEMPT], ids=lambda e: e.name)
def test_unimplemented_method_is_405(matrix_world: Any, ep: Endpoint) -> None:
    """A method the view does not implement answers 405 METHOD_NOT_ALLOWED in the catalog format."""
    method = next((m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in ep.methods), None)
    if method is None:
        pytest.skip("implements every method")
    w, clients = matrix_world
    kwargs = {
        "key_id": w.keys["owner/*"].public_id,
        "org_id": w.orgs["A1"].public_id,
        "user_id": w.users["peer"].public_id,
        "scan_id": w.scans["A1"].public_id,
        "token_id": w.scim_tokens["A"].public_id,
        "invitation_id": "inv-00000000-0000-4000-8000-000000000000",
    }
    reset_between_cells()
    client = clients.get(spec.CALLER["key:owner/*"])
    response = getattr(client, method.lower())(path_of(ep, kwargs), data="{}", content_type="application/json")
    assert response.status_code == 405, response.content
    assert response.json()["error"] == "METHOD_NOT_ALLOWED"


def test_cells_per_operation_are_counted() -> None:
    """Every operation has cells, and every caller runs some (a table edit cannot silently drop one)."""
    per_op = Counter({op.name: len(spec.cells_for(op)) for op in spec.OPS})
    assert all(per_op.values()), [name for name, n in per_op.items() if not n]
    callers = {cell.caller.name for op in spec.OPS for cell in spec.cells_for(op)}
    assert callers == {c.name for c in spec.CALLERS}, {c.name for c in spec.CALLERS} - callers
