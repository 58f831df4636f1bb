"""The access matrix on the seed systems' own paths outside ``/api/`` (SPEC §5a).

Tatry's ``/v1/auth/validate`` (GET and POST, and its ``/v1/validate`` form) and
``/v1/auth/keys``, taap.it's ``/v1/workspaces`` and Taffy's ``/auth/token`` are walked by
every caller of the /api/ matrix plus the attacker's other credentials (``surface_spec``:
another org's key, a key whose owner was removed, demoted from tenant owner or deactivated, a
key called from outside its allowlist), and Taffy's by everyone whose password might be sent
(``surface_exchange``). Expectations come from the SPEC (``matrix_spec``'s tables, mapped to
each surface's envelope and codes); the URL conf is read only to check that every seed path
and method outside ``/api/`` has rows (a new one without rows fails).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.hardening import matrix_spec as spec
from tests.hardening import report
from tests.hardening import surface_exchange as exchange
from tests.hardening import surface_spec as sspec
from tests.hardening.matrix import Endpoint, _json, describe, rolled_back_population
from tests.hardening.surface_matrix import (
    SurfaceCell,
    SurfaceClients,
    build_surface_world,
    cells,
    reset_between_cells,
    run_cell,
    surface_endpoints,
)

ENDPOINTS = surface_endpoints()
BY_NAME = {ep.name: ep for ep in ENDPOINTS}
CELLS = cells()
SYSTEM = {op.endpoint: op.system for op in sspec.SURFACE_OPS} | {name: "taffy" for name, _ in sspec.EXCHANGE_ENDPOINTS}

# Attacks that succeed: the test states the SPEC, the bug keeps it failing (strict xfail).
KNOWN_BUGS: dict[str, str] = {}


def _marks(name: str) -> Any:
    return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []


def test_every_surface_endpoint_is_covered() -> None:
    names = {ep.name for ep in ENDPOINTS}
    assert {"tatry-validate", "tatry-keys", "taapit-workspaces", "taffy-token"} <= names, (
        f"the seed paths were not found: the URL conf walk is broken ({sorted(names)})"
    )
    covered = {(op.endpoint, op.method) for op in sspec.SURFACE_OPS} | sspec.EXCHANGE_ENDPOINTS
    problems = []
    for ep in ENDPOINTS:
        missing = [m for m in ep.methods if m != "OPTIONS" and (ep.name, m) not in covered]
        if missing:
            problems.append(
                f"seed path {ep.name!r} ({ep.route}) has no surface-matrix rows for {', '.join(missing)}: add a "
                f"SurfaceOp to tests/hardening/surface_spec.py SURFACE_OPS with the SPEC rule it serves (or, for a "
                f"credential exchange, cases in surface_exchange.py and an EXCHANGE_ENDPOINTS entry)."
            )
    stale = sorted(f"{e} {m}" for e, m in covered if e not in BY_NAME or m not in BY_NAME[e].methods)
    if stale:
        problems.append(f"rows for seed paths or methods that do not exist: {stale}")
    assert not problems, "\n".join(problems)


def test_surface_tables_are_consistent() -> None:
    problems = []
    for name, row in sspec.EXTRA_REACH.items():
        caller = sspec.CALLER[name]
        for relation, cell in row.items():
            exists = spec.key_target(caller, relation) is not None
            if (cell == "-") == exists:
                problems.append(f"EXTRA_REACH[{name}][{relation}] is {cell!r}: the relation exists: {exists}")
    for caller in sspec.CALLERS:
        lists = any(c.caller == caller and c.op.rule is sspec.KEY_LIST and c.outcome.ok for c in CELLS)
        if lists and not sspec.reach_row(caller):
            problems.append(f"{caller.name} lists keys but has no REACH row")
    per_op = Counter(c.op.name for c in CELLS)
    problems += [f"{op.name} has no cells" for op in sspec.SURFACE_OPS if not per_op[op.name]]
    missing = {c.name for c in sspec.CALLERS} - {c.caller.name for c in CELLS}
    problems += [f"callers that run no surface cell: {sorted(missing)}"] if missing else []
    labels = Counter(c.label for c in CELLS)
    problems += [f"duplicate cells: {[k for k, n in labels.items() if n > 1]}"] if max(labels.values()) > 1 else []
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def surface_world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One population for the module in a transaction rolled back at the end (as the /api/
    matrix's); each cell runs in a savepoint inside it."""
    with rolled_back_population(django_db_blocker, build_surface_world, SurfaceClients, sspec.CALLERS) as population:
        yield population


@pytest.mark.django_db
@pytest.mark.parametrize("cell", [pytest.param(c, id=c.label, marks=_marks(c.label)) for c in CELLS])
def test_surface_matrix(surface_world: Any, cell: SurfaceCell) -> None:
    w, clients = surface_world
    ep = BY_NAME[cell.op.endpoint]
    status, code, problems = run_cell(w, clients, ep, cell)
    want = cell.outcome
    want_code = sspec.tatry_code(want.code) if cell.op.system == "tatry" and want.code else want.code
    report.record(
        report.CellResult(
            op=cell.op.name,
            endpoint=ep.name,
            method=cell.op.method,
            caller=cell.caller.name,
            relation="-",
            expected=describe(want.status, want_code),
            got=describe(status, code),
            problems=tuple(problems),
            note=want.note,
        )
    )
    assert not problems, f"{cell.label} ({cell.op.method} {ep.route}): " + " ; ".join(problems)


@pytest.mark.django_db
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=_marks(c.name)) for c in exchange.EXCHANGES])
def test_credential_exchange(surface_world: Any, case: exchange.Exchange) -> None:
    w, clients = surface_world
    status, problems = exchange.run_exchange(w, clients, case)
    want = exchange.expect(case)
    report.record(
        report.CellResult(
            op="taffy.token",
            endpoint="taffy-token",
            method="POST",
            caller=case.name,
            relation="-",
            expected=describe(want.status, want.code) + (" +secret" if want.secret else ""),
            got=str(status),
            problems=tuple(problems),
            note=want.note,
        )
    )
    assert not problems, f"{case.name}: " + " ; ".join(problems)


def _system(ep: Endpoint) -> str:
    if ep.name not in SYSTEM:
        pytest.fail(f"{ep.name} has no surface-matrix rows (see test_every_surface_endpoint_is_covered)")
    return SYSTEM[ep.name]


def _in_envelope(system: str, status: int, data: Any) -> bool:
    if system == "tatry":
        return isinstance(data, dict) and data.get("status") == ("error" if status >= 400 else "success")
    if system == "taapit":
        return isinstance(data, dict) and set(data) == {"detail"} if status >= 400 else isinstance(data, list)
    return isinstance(data, dict) and set(data) == {"errors", "data"}


@pytest.mark.django_db
@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.name)
def test_surface_unimplemented_method_is_405(surface_world: Any, ep: Endpoint) -> None:
    """A method the path does not serve is a 405 in its system's envelope, for a valid key too."""
    method = next((m for m in ("PUT", "DELETE", "PATCH", "POST", "GET") if m not in ep.methods), None)
    if method is None:
        pytest.skip("implements every method")
    system = _system(ep)
    w, clients = surface_world
    reset_between_cells()
    client = clients.get(spec.CALLER["key:owner/*"])
    response = getattr(client, method.lower())(ep.route, data="{}", content_type="application/json")
    data = _json(response)
    assert response.status_code == 405, response.content
    assert _in_envelope(system, 405, data), data
    if system == "tatry":
        assert data["error"]["code"] == "method_not_allowed", data


@pytest.mark.django_db
@pytest.mark.parametrize("ep", ENDPOINTS, ids=lambda e: e.name)
def test_both_forms_of_a_seed_path_answer_alike(surface_world: Any, ep: Endpoint) -> None:
    """SPEC §3: with and without the trailing slash, anonymously: the same status, the system's
    envelope, never a 5xx, never a secret or tenant data."""
    system = _system(ep)
    w, _ = surface_world
    other = ep.route[:-1] if ep.route.endswith("/") else ep.route + "/"
    for method in (m for m in ep.methods if m != "OPTIONS"):
        answers = []
        for path in (ep.route, other):
            reset_between_cells()
            call = getattr(APIClient(), method.lower())
            response = call(path, data="{}", content_type="application/json") if method != "GET" else call(path)
            text = response.content.decode(errors="replace")
            data = _json(response)
            assert response.status_code < 500, (path, response.status_code)
            assert _in_envelope(system, response.status_code, data), (path, data)
            assert response.status_code >= 400, (path, "answered an anonymous call", text[:200])
            leaked = [m for m in (*w.raw.values(), *(o.public_id for o in w.orgs.values())) if m in text]
            assert not leaked, (path, leaked[:2])
            answers.append(response.status_code)
        assert answers[0] == answers[1], (ep.route, other, answers)
