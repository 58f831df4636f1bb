"""Migrate a fresh database and seed the bench data set.

Run as ``python -m bench.seed --out creds.json [--keys N] [--audit N]`` with the backend's
environment (DATABASE_URL or SQLITE_PATH, REDIS_URL). The tenant, org, user and the three
keys are made through the app's own services; the N extra keys and audit entries are
bulk-inserted (executemany on SQLite, COPY on PostgreSQL) so a million rows take seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_peers")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Model  # noqa: E402
from django.utils import timezone  # noqa: E402

BATCH = 20_000


def _template(model: type[Model], varying: set[str]) -> tuple[list[str], list[Any], dict[str, int]]:
    """Column names, a row of prepared defaults, and the index of each varying field."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    base: list[Any] = []
    index: dict[str, int] = {}
    for i, f in enumerate(fields):
        index[f.attname] = i
        base.append(None if f.attname in varying else f.get_db_prep_save(f.get_default(), connection))
    return columns, base, index


def bulk_insert(model: type[Model], n: int, constants: dict[str, Any], make: Callable[[int], dict[str, Any]]) -> float:
    """Insert ``n`` rows: ``constants`` are prepared once, ``make(i)`` gives the varying
    values (already in database form: strings and ints)."""
    if n <= 0:
        return 0.0
    started = time.perf_counter()
    sample = make(0)
    columns, base, index = _template(model, set(sample) | set(constants))
    fields = {f.attname: f for f in model._meta.concrete_fields}
    for name, value in constants.items():
        base[index[name]] = fields[name].get_db_prep_save(value, connection)
    slots = [(index[name], name) for name in sample]

    def rows(start: int, stop: int) -> Iterator[tuple[Any, ...]]:
        for i in range(start, stop):
            values = make(i)
            row = list(base)
            for slot, name in slots:
                row[slot] = values[name]
            yield tuple(row)

    table = connection.ops.quote_name(model._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                raw = cursor.cursor
                with raw.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:  # noqa: S608 - our own table names
                    for row in rows(0, n):
                        copy.write_row(row)
            else:
                sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
                for start in range(0, n, BATCH):
                    cursor.executemany(sql, list(rows(start, min(n, start + BATCH))))
    return time.perf_counter() - started


def filler_keys(model: type[Model], n: int, *, tenant: Any, org: Any, owner: Any, now: Any) -> float:
    """``n`` more active key rows of ``tenant``'s ``org`` (never presented: they only make
    the table big), bulk-inserted; the seconds it took."""
    return bulk_insert(
        model,
        n,
        {
            "name": "filler",
            "type": "standard",
            "tenant_id": tenant.pk,
            "organization_id": org.pk,
            "owner_id": owner.pk,
            "creator_id": owner.pk,
            "scopes": ["*:read"],
            "is_active": True,
            "allowed_ips": [],
            "rate_limit": "",
            "created_at": now - timedelta(days=30),
            "updated_at": now,
        },
        lambda i: {
            "public_id": f"key-{uuid.UUID(int=i + 1, version=4)}",
            "digest": hashlib.sha256(f"bench-filler-{i}".encode()).hexdigest(),
            "display_prefix": f"tater_{i % 65536:04x}",
        },
    )


def _move_chain_head(tenant_pk: int, last_seq: int) -> None:
    """Later entries (e.g. the stale probe's revocation) append after the filler."""
    try:
        from audit.models import AuditChainHead  # type: ignore[attr-defined]
    except ImportError:
        return
    AuditChainHead.objects.filter(tenant_id=tenant_pk).update(last_seq=last_seq)


def seed(extra_keys: int, audit_rows: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework_api_key.models import APIKey

    from apikeys import services as key_services
    from apikeys.models import ApiKey
    from audit.models import AuditEvent
    from orgs import services as org_services

    User = get_user_model()
    owner = User.objects.create_user(email="bench-owner@example.com", password="bench-password-not-secret")
    tenant = org_services.tenant_create(name="Bench", owner=owner, plan="enterprise")
    org = org_services.org_create(tenant=tenant, name="Bench Org")
    main = key_services.apikey_create(creator=owner, tenant=tenant, organization=org, name="bench", scopes=["*"])
    victim = key_services.apikey_create(creator=owner, tenant=tenant, organization=org, name="victim", scopes=["*"])
    token = Token.objects.create(user=owner)
    _, lib_key = APIKey.objects.create_key(name="bench")

    now = timezone.now()
    timings: dict[str, float] = {}
    timings["keys"] = filler_keys(ApiKey, extra_keys, tenant=tenant, org=org, owner=owner, now=now)
    start = now - timedelta(days=365)
    # Filler entries continue the tenant's chain numbering (seq is unique per tenant);
    # their hashes are not computed: the bench times pages, it does not verify chains.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM audit_auditevent WHERE tenant_id = %s", [tenant.pk])
        seq0 = int(cursor.fetchone()[0])
    timings["audit"] = bulk_insert(
        AuditEvent,
        audit_rows,
        {
            "tenant_id": tenant.pk,
            "organization_id": org.pk,
            "actor_user_id": owner.pk,
            "actor_email": owner.email,
            "channel": "api",
            "action": "api_key.created",
            "target_type": "apikey",
            "changes": {"name": {"to": "filler"}},
            "ip": "127.0.0.1",
            "user_agent": "bench",
            "prev_hash": "",
            "entry_hash": "",
        },
        lambda i: {
            "public_id": f"evt-{uuid.UUID(int=i + 1, version=4)}",
            "api_key_id": main.api_key.public_id,
            "target_id": f"key-{i}",
            "target_repr": f"filler {i}",
            "request_id": f"{i:032x}",
            "created_at": (start + timedelta(seconds=i * 30)).isoformat()
            if connection.vendor != "postgresql"
            else start + timedelta(seconds=i * 30),
            "seq": seq0 + i + 1,
        },
    )
    _move_chain_head(tenant.pk, seq0 + audit_rows)
    if connection.vendor == "postgresql":
        # Fresh planner statistics, as autovacuum would soon have. Not on SQLite: the app
        # never runs ANALYZE there, and with statistics SQLite plans the key lookup as a
        # scan (see the bench notes), which would misstate the embedded default.
        # VACUUM too, and a checkpoint: otherwise autovacuum and the checkpointer work
        # through the million new rows while the measurements run.
        with connection.cursor() as cursor:
            if connection.in_atomic_block:
                cursor.execute("ANALYZE")
            else:
                cursor.execute("VACUUM (ANALYZE)")
                cursor.execute("CHECKPOINT")
    return {
        "tater_key": main.key,
        "tater_key_id": main.api_key.public_id,
        "victim_key": victim.key,
        "victim_key_id": victim.api_key.public_id,
        "drf_token": token.key,
        "api_key_lib": lib_key,
        "org_id": org.public_id,
        "tenant_id": tenant.public_id,
        "extra_keys": extra_keys,
        "audit_rows": audit_rows,
        "seed_seconds": {k: round(v, 1) for k, v in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--keys", type=int, default=1_000)
    parser.add_argument("--audit", type=int, default=10_000)
    args = parser.parse_args()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    creds = seed(args.keys, args.audit)
    creds["seed_seconds"]["migrate"] = round(migrated, 1)
    with open(args.out, "w") as fh:
        json.dump(creds, fh)
    print(json.dumps({"seeded": {k: v for k, v in creds.items() if k in ("extra_keys", "audit_rows", "seed_seconds")}}))


if __name__ == "__main__":
    main()
