from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import add_member, make_key, make_tenant
from tests.hardening import report as hardening_report
from tests.state import reset_shared_state

REAL_SERVICES = bool(os.environ.get("DATABASE_URL")) and bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    skip = pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL (Redis)")
    for item in items:
        if "realservices" in item.keywords and not REAL_SERVICES:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_cache() -> Any:
    reset_shared_state()
    yield
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    """Tenant A (two orgs, a user of each role, an org key each) and tenant B (one org)."""
    tenant, owner, (org1, org2) = make_tenant(name="Acme", orgs=2)
    admin = add_member(org1, "admin")
    member = add_member(org1, "member")
    viewer = add_member(org1, "viewer")
    other_tenant, other_owner, (other_org,) = make_tenant(name="Globex", orgs=1)
    owner_key, owner_raw = make_key(user=owner, tenant=tenant, org=org1, name="owner key")
    member_key, member_raw = make_key(
        user=member, tenant=tenant, org=org1, name="member key", scopes=["scans:write", "keys:write"]
    )
    other_key, other_raw = make_key(user=other_owner, tenant=other_tenant, org=other_org, name="globex key")
    return {
        "tenant": tenant,
        "owner": owner,
        "org1": org1,
        "org2": org2,
        "admin": admin,
        "member": member,
        "viewer": viewer,
        "other_tenant": other_tenant,
        "other_owner": other_owner,
        "other_org": other_org,
        "owner_key": owner_key,
        "owner_raw": owner_raw,
        "member_key": member_key,
        "member_raw": member_raw,
        "other_key": other_key,
        "other_raw": other_raw,
    }


@pytest.fixture
def _postgresql_only() -> None:
    """Race and lock tests: concurrency is only meaningful on PostgreSQL (SQLite runs one
    writer at a time)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrency is only meaningful on PostgreSQL")


# --- The hardening report (tests/hardening/report.py) -------------------------------------
# Written once per run by the process that prints the summary: the only process without
# pytest-xdist, else the controller, which merges what each worker recorded.

HARDENING_ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "hardening-matrix.txt"


def pytest_sessionfinish(session: Any) -> None:
    if hasattr(session.config, "workerinput"):
        session.config.workeroutput["hardening"] = hardening_report.dump()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    hardening_report.merge(getattr(node, "workeroutput", {}).get("hardening", {}))


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    if hasattr(config, "workerinput"):
        return
    lines = hardening_report.write(HARDENING_ARTIFACT)
    if lines:
        terminalreporter.write_sep("-", "hardening")
        for line in lines:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"(details: {HARDENING_ARTIFACT})")
