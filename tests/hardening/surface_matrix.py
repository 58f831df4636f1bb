"""The surface-matrix engine: the seed systems' paths outside ``/api/`` from the URL conf (for
coverage only), the extra callers' keys, and running one cell of ``surface_spec`` (Tatry's
validate and key list, taap.it's workspaces): send the request with the key as the seed
documents send it (``Authorization: Bearer``), then check the status, the surface's envelope
and codes, the answer against what the caller reaches, and (key lists) that it is exactly
what ``GET /api/v1/keys/`` answers the same key.

Expectations never come from here: ``surface_spec`` states them from the SPEC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from orgs import services as org_services
from tests.factories import add_member, make_key
from tests.hardening import matrix_spec as spec
from tests.hardening import surface_spec as sspec
from tests.hardening.matrix import (
    SECRET,
    Clients,
    Endpoint,
    _check_no_foreign_data,
    _json,
    endpoints,
    hint_params,
    reset_between_cells,
)
from tests.hardening.matrix_spec import Caller, Outcome
from tests.hardening.matrix_world import MatrixWorld, build_matrix_world, target_key

# --- Endpoints (coverage only) ---------------------------------------------------------------
SEED_PREFIXES = ("v1/", "auth/")  # SPEC §5a: Tatry's and taap.it's /v1/, Taffy's /auth/


def surface_endpoints() -> list[Endpoint]:
    """Every path the seed surfaces serve outside ``/api/`` (their ``/api/`` paths are walked by
    the /api/ matrix), and any route under the seed prefixes whichever app serves it."""

    def select(route: str, urlconfs: tuple[str, ...]) -> bool:
        if route.startswith("api/"):
            return False
        return route.startswith(SEED_PREFIXES) or any(conf.split(".")[0] == "surfaces" for conf in urlconfs)

    return endpoints(select)


# --- The world: matrix_world's, plus the extra callers' keys under their earlier roles ----------
def build_surface_world() -> MatrixWorld:
    w = build_matrix_world()
    users, orgs, tenant_a = w.users, w.orgs, w.tenants["A"]

    def key(name: str, **kwargs: Any) -> None:
        caller = sspec.CALLER[name]
        api_key, secret = make_key(
            user=users[caller.user],
            tenant=w.tenants[caller.tenant],
            org=orgs[caller.binding] if caller.binding else None,
            name=f"matrix {caller.key}",
            scopes=list(caller.scopes),
            **kwargs,
        )
        w.keys[caller.key], w.raw[caller.key] = api_key, secret

    key("key:sibling/member-scopes")
    add_member(orgs["A1"], "member", users["departed"])
    key("key:departed/*:read")
    org_services.org_member_set(organization=orgs["A1"], user=users["departed"], role=None)
    org_services.tenant_member_set(tenant=tenant_a, user=users["ex-owner"], role="owner")
    key("key:ex-owner/unbound")
    org_services.tenant_member_set(tenant=tenant_a, user=users["ex-owner"], role="admin")
    key("key:deactivated/*:read")
    for name in sspec.DEACTIVATED_USERS:
        get_user_model().objects.filter(pk=users[name].pk).update(is_active=False)
        users[name].refresh_from_db()
    key("key:owner/allowlisted", allowed_ips=sspec.ALLOWLISTED["key:owner/allowlisted"])
    return w


class SurfaceClients:
    """Sessions as the /api/ matrix logs them in; keys as the seed documents send them."""

    def __init__(self, w: MatrixWorld) -> None:
        self.w = w
        self.sessions = Clients(w)

    def get(self, caller: Caller) -> APIClient:
        if caller.kind != "key":
            return self.sessions.get(caller)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.w.raw[caller.key]}")
        return client


# --- One cell ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SurfaceCell:
    caller: Caller
    op: sspec.SurfaceOp
    outcome: Outcome

    @property
    def label(self) -> str:
        return f"{self.op.name}|{self.caller.name}"


def cells() -> list[SurfaceCell]:
    return [SurfaceCell(c, op, sspec.expect(c, op)) for op in sspec.SURFACE_OPS for c in sspec.callers_for(op)]


def _is_list(op: sspec.SurfaceOp) -> bool:
    return op.rule is not None and op.rule.group == spec.KEYS_LIST


def _query_and_headers(w: MatrixWorld, caller: Caller, op: sspec.SurfaceOp) -> tuple[str, dict[str, str]]:
    hints, headers = hint_params(w, caller)
    query = list(op.query) + hints
    if _is_list(op):
        query.append(("limit", "200"))
    if caller.name in sspec.ALLOWLISTED:
        headers["HTTP_X_FORWARDED_FOR"] = sspec.SPOOFED_FORWARDED_FOR
    return urlencode(query), headers


def _list_targets(w: MatrixWorld, cell: SurfaceCell) -> dict[str, tuple[ApiKey, str]]:
    """A fresh key for every relation the caller has (SPEC §2a), with its REACH cell."""
    row = sspec.reach_row(cell.caller)
    built = {}
    for rel in spec.KEY_RELATIONS:
        target = spec.key_target(cell.caller, rel)
        if target is None or target.is_caller:
            continue
        key, _ = target_key(w, target)
        if cell.op.targets_revoked:
            ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
        built[rel] = (key, row.get(rel, "."))
    return built


def run_cell(w: MatrixWorld, clients: SurfaceClients, ep: Endpoint, cell: SurfaceCell) -> tuple[int, str, list[str]]:
    """Run one cell in a savepoint that is rolled back; (status, surface code, problems)."""
    reset_between_cells()
    with transaction.atomic():
        targets = _list_targets(w, cell) if _is_list(cell.op) and cell.outcome.ok else {}
        query, headers = _query_and_headers(w, cell.caller, cell.op)
        path = f"{ep.route}?{query}" if query else ep.route
        response = getattr(clients.get(cell.caller), cell.op.method.lower())(path, **headers)
        code, problems = check(w, cell, response, targets)
        if _is_list(cell.op) and cell.caller.is_key:
            problems += _differs_from_core(w, cell, response, query, headers)
        transaction.set_rollback(True)
    return response.status_code, code, problems


# --- Checks ---------------------------------------------------------------------------------------
def check(
    w: MatrixWorld, cell: SurfaceCell, response: Any, targets: dict[str, tuple[ApiKey, str]]
) -> tuple[str, list[str]]:
    want, status, data = cell.outcome, response.status_code, _json(response)
    text = response.content.decode(errors="replace")
    problems: list[str] = []
    if not response.get("Content-Type", "").startswith("application/json"):
        problems.append(f"not JSON: {response.get('Content-Type')}")
    tatry = cell.op.system == "tatry"
    error = data.get("error") if tatry and isinstance(data, dict) and isinstance(data.get("error"), dict) else {}
    code = str(error.get("code", ""))
    want_code = sspec.tatry_code(want.code) if tatry and want.code else ""
    if status != want.status or code != want_code:
        got = f"got {status} {code}".rstrip()
        problems.append(f"{got}, expected {want.status} {want_code or want.code}".rstrip() + f" ({want.why})")
    if status >= 400 and not want.ok:
        problems += _tatry_error(want, data) if tatry else _taapit_error(want, data)
    leaked = set(SECRET.findall(text)) | {s for s in w.raw.values() if s in text}
    if leaked:
        problems.append(f"a key secret in the answer: {sorted(leaked)[0][:10]}…")
    if status < 300:
        problems += _check_no_foreign_data(w, cell.caller, text)
    if want.ok and status == want.status:
        problems += _check_answer(w, cell, data, targets)
    return code, problems


def _tatry_error(want: Outcome, data: Any) -> list[str]:
    """SPEC §5a: {"status": "error", "error": {"code", "message", "details"}}."""
    if not (isinstance(data, dict) and data.get("status") == "error" and isinstance(data.get("error"), dict)):
        return [f"error not in Tatry's envelope: {str(data)[:200]}"]
    error = data["error"]
    details = error.get("details")
    if not (isinstance(error.get("message"), str) and isinstance(details, dict)):
        return [f"Tatry error without message and details: {error}"]
    problems = []
    if details.get("tater_error") != want.code:  # the migration guide: it names the catalog code
        problems.append(f"details.tater_error {details.get('tater_error')!r}, expected {want.code!r}")
    if want.message and error["message"] != want.message:
        problems.append(f"message {error['message']!r}, expected {want.message!r}")
    if want.message_has and want.message_has not in error["message"] + json.dumps(details):
        problems.append(f"message {error['message']!r} does not name {want.message_has}")
    code = sspec.tatry_code(want.code)
    if code == "auth_invalid_key":
        status = sspec.KEY_STATUS.get(want.code) or sspec.KEY_STATUS.get(want.message)
        if not details.get("key_status") or (status and details["key_status"] != status):
            problems.append(
                f"auth_invalid_key with details.key_status {details.get('key_status')!r}, expected {status}"
            )
    if code == "auth_expired_key" and not details.get("expired_at"):
        problems.append("auth_expired_key without details.expired_at")
    if want.scope and want.scope not in (details.get("required_permissions") or []):
        problems.append(f"auth_permission_denied without details.required_permissions naming {want.scope}")
    return problems


def _taapit_error(want: Outcome, data: Any) -> list[str]:
    """SPEC §5a: {"detail": "Invalid API key"} and the like."""
    if not (isinstance(data, dict) and set(data) == {"detail"} and isinstance(data["detail"], str) and data["detail"]):
        return [f"error not in taap.it's shape: {str(data)[:200]}"]
    detail = data["detail"]
    if want.message and detail != sspec.taapit_detail(want.message):
        return [f"detail {detail!r}, expected {sspec.taapit_detail(want.message)!r}"]
    if want.scope and want.scope not in detail:
        return [f"detail {detail!r} does not name {want.scope}"]
    return []


def _check_answer(w: MatrixWorld, cell: SurfaceCell, data: Any, targets: dict[str, tuple[ApiKey, str]]) -> list[str]:
    caller = cell.caller
    if cell.op.system == "taapit":
        if not (isinstance(data, list) and all(isinstance(o, dict) for o in data)):
            return [f"workspaces not a JSON array of objects: {str(data)[:200]}"]
        listed = [o.get("id") for o in data]
        want = sorted(w.orgs[label].public_id for label in sspec.reachable_orgs(caller))
        return [] if sorted(listed) == want else [f"lists workspaces {sorted(listed)}, the key reaches {want}"]
    if not (isinstance(data, dict) and data.get("status") == "success" and isinstance(data.get("data"), dict)):
        return [f"success not in Tatry's envelope: {str(data)[:200]}"]
    payload = data["data"]
    if cell.op.rule is None:
        return _check_validate(w, caller, payload)
    return _check_key_list(w, cell, payload, targets)


def _check_validate(w: MatrixWorld, caller: Caller, payload: dict[str, Any]) -> list[str]:
    """SPEC §5/§5a: valid, the key's id, org, tenant, effective permissions, rate limits."""
    want = {
        "valid": True,
        "id": w.keys[caller.key].public_id,
        "organization_id": w.orgs[caller.binding].public_id if caller.binding else None,
        "tenant_id": w.tenants[caller.tenant].public_id,
        "permissions": sorted(caller.perms(caller.binding)),
        "rate_limits": sspec.ENTERPRISE_LIMITS,
    }
    got = {name: payload.get(name) for name in want}
    got["permissions"] = sorted(got["permissions"] or [])
    wrong = {name: (got[name], value) for name, value in want.items() if got[name] != value}
    return [f"validate answered {name}={g!r}, expected {v!r}" for name, (g, v) in wrong.items()]


def _check_key_list(
    w: MatrixWorld, cell: SurfaceCell, payload: dict[str, Any], targets: dict[str, tuple[ApiKey, str]]
) -> list[str]:
    """SPEC §2a: exactly the keys the caller reaches in the resolved org; ``total`` counts them."""
    caller = cell.caller
    keys = payload.get("keys")
    if not isinstance(keys, list):
        return [f"key list without keys: {str(payload)[:200]}"]
    listed = [k.get("id") for k in keys]
    problems = []
    if payload.get("total") != len(listed):
        problems.append(f"total {payload.get('total')} for {len(listed)} keys listed (limit 200)")
    org = caller.resolved_org()
    for rel, (row, reach) in targets.items():
        if row.public_id in listed and reach != "Y":
            problems.append(f"lists the {rel} key, outside its reach")
        if row.public_id not in listed and reach == "Y" and org and row.organization_id == w.orgs[org].pk:
            problems.append(f"does not list the {rel} key it reaches")
    # SPEC §2a: an org-bound key acts only on its owner's keys bound to its org; an unbound key
    # reaches all of its owner's keys (the hint does not narrow the list, as on /api/v1/keys/).
    owner = w.users[caller.user].pk
    for public_id, owner_pk, org_pk, revoked in ApiKey.objects.filter(public_id__in=listed).values_list(
        "public_id", "owner_id", "organization_id", "revoked_at"
    ):
        if owner_pk != owner or (not caller.unbound and org_pk != w.orgs[caller.binding].pk):
            problems.append(f"lists {public_id} (owner {owner_pk}, org {w.org_label(org_pk)}), outside the key's reach")
        if cell.op.targets_revoked and revoked is None:
            problems.append(f"status=revoked lists {public_id}, which is not revoked")
    return problems


def _differs_from_core(
    w: MatrixWorld, cell: SurfaceCell, response: Any, query: str, headers: dict[str, str]
) -> list[str]:
    """SPEC §5a "served by the same core": the key list is GET /api/v1/keys/'s, refusals included."""
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=w.raw[cell.caller.key])
    core = client.get(f"/api/v1/keys/?{query}" if query else "/api/v1/keys/", **headers)
    mine, theirs = _json(response), _json(core)
    if core.status_code != response.status_code:
        return [f"GET /api/v1/keys/ answers {core.status_code}, this path {response.status_code}"]
    if core.status_code == 200:
        ids = [k["id"] for k in theirs["keys"]], theirs["total"]
        here = [k["id"] for k in mine["data"]["keys"]], mine["data"]["total"]
        return [] if ids == here else [f"lists {here}, GET /api/v1/keys/ lists {ids}"]
    tater_error = ((mine or {}).get("error") or {}).get("details", {}).get("tater_error")
    if isinstance(theirs, dict) and theirs.get("error") != tater_error:
        return [f"refused as {tater_error}, GET /api/v1/keys/ as {theirs.get('error')}"]
    return []


__all__ = ["SurfaceCell", "SurfaceClients", "build_surface_world", "cells", "run_cell", "surface_endpoints"]
