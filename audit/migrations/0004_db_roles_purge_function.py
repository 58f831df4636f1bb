"""PostgreSQL: the audit log holds against the application's runtime role (SPEC §7).

0003's trigger admitted a DELETE in any transaction that set ``tater.audit_purge = 'on'``,
and anyone can call set_config(); TRUNCATE fired no trigger at all. Now:

- ``tater_audit_purge(chain_tenant_id, through_seq)``, SECURITY DEFINER, owned by the table
  owner (the role running this migration), is the only way to delete: it deletes a prefix of
  one chain, refuses entries younger than ``tater_audit_min_retention()`` and refuses a purge
  that the chain's newest entry (``audit.purged``, written by purge_audit in the same
  transaction) does not announce. EXECUTE is revoked from PUBLIC; ``setup_db_roles`` grants
  it to the runtime role.
- The row trigger admits a DELETE only inside that function: the flag it sets is honoured
  only when ``current_user`` is the table owner, which a SECURITY DEFINER function owned by
  the owner is and the runtime role is not (``session_user`` stays the runtime role).
- A statement trigger refuses TRUNCATE, for the owner too. Superusers pass: they bypass
  triggers anyway (DISABLE TRIGGER, session_replication_role), and Django's test runner
  empties tables with TRUNCATE between transactional tests.

SQLite has none of this; there the model and the admin refuse changes.
"""

from django.db import migrations

ROW_TRIGGER = """
CREATE OR REPLACE FUNCTION {s}.tater_audit_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- The flag alone proves nothing (set_config is open to every session); the table owner
    -- as current_user means tater_audit_purge, running as its owner, is deleting.
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('tater.audit_purge', true), '') = 'on'
       AND (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID)
           = (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

TRUNCATE_TRIGGER = """
CREATE OR REPLACE FUNCTION {s}.tater_audit_no_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: TRUNCATE refused on %', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER IF EXISTS tater_audit_no_truncate ON {s}.audit_auditevent;
CREATE TRIGGER tater_audit_no_truncate
    BEFORE TRUNCATE ON {s}.audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.tater_audit_no_truncate();
"""

MIN_RETENTION = """
CREATE OR REPLACE FUNCTION {s}.tater_audit_min_retention() RETURNS interval
LANGUAGE sql STABLE AS $$ SELECT make_interval(days => {days}) $$;
"""

# Every name is schema-qualified and search_path pinned: a SECURITY DEFINER function must not
# resolve a name to an object its caller created.
PURGE = """
CREATE OR REPLACE FUNCTION {s}.tater_audit_purge(chain_tenant_id bigint, through_seq bigint) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    floor_time timestamptz := now() - {s}.tater_audit_min_retention();
    youngest timestamptz;
    anchor_hash text;
    newest record;
    deleted bigint;
BEGIN
    -- The chain's head: writers of this chain wait until the purge commits.
    PERFORM 1 FROM {s}.audit_auditchainhead h
     WHERE h.chain = CASE WHEN chain_tenant_id IS NULL THEN 'global' ELSE 'tenant:' || chain_tenant_id END
       FOR UPDATE;
    SELECT max(e.created_at) INTO youngest FROM {s}.audit_auditevent e
     WHERE (e.tenant_id = chain_tenant_id OR (chain_tenant_id IS NULL AND e.tenant_id IS NULL))
       AND e.seq <= through_seq;
    IF youngest IS NULL THEN
        RETURN 0;
    END IF;
    IF youngest >= floor_time THEN
        RAISE EXCEPTION 'audit purge refused: entries younger than the minimum retention (%) cannot be deleted',
            {s}.tater_audit_min_retention() USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT e.entry_hash INTO anchor_hash FROM {s}.audit_auditevent e
     WHERE (e.tenant_id = chain_tenant_id OR (chain_tenant_id IS NULL AND e.tenant_id IS NULL))
       AND e.seq = through_seq;
    SELECT e.action, e.changes INTO newest FROM {s}.audit_auditevent e
     WHERE (e.tenant_id = chain_tenant_id OR (chain_tenant_id IS NULL AND e.tenant_id IS NULL))
     ORDER BY e.seq DESC LIMIT 1;
    -- The purge is recorded before it happens, so no deletion goes unaudited.
    IF anchor_hash IS NULL
       OR newest.action IS DISTINCT FROM 'audit.purged'
       OR newest.changes -> 'anchor' ->> 'seq' IS DISTINCT FROM (through_seq + 1)::text
       OR newest.changes -> 'anchor' ->> 'prev_hash' IS DISTINCT FROM anchor_hash THEN
        RAISE EXCEPTION 'audit purge refused: the newest entry of the chain must be the audit.purged entry '
            'announcing this purge (anchor seq %)', through_seq + 1 USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- Transaction-local, and switched off again before returning (an error rolls it back).
    -- Not a SET clause on the function: only a superuser may attach a custom setting to one.
    PERFORM set_config('tater.audit_purge', 'on', true);
    DELETE FROM {s}.audit_auditevent e
     WHERE (e.tenant_id = chain_tenant_id OR (chain_tenant_id IS NULL AND e.tenant_id IS NULL))
       AND e.seq <= through_seq;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('tater.audit_purge', 'off', true);
    IF newest.changes ->> 'deleted' IS DISTINCT FROM deleted::text THEN
        RAISE EXCEPTION 'audit purge refused: the audit.purged entry announces % deletions, not %',
            newest.changes ->> 'deleted', deleted USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN deleted;
END;
$$;
REVOKE ALL ON FUNCTION {s}.tater_audit_purge(bigint, bigint) FROM PUBLIC;
"""

# 0003's function, for unapplying.
PREVIOUS_ROW_TRIGGER = """
CREATE OR REPLACE FUNCTION {s}.tater_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('tater.audit_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

UNINSTALL = """
DROP FUNCTION IF EXISTS {s}.tater_audit_purge(bigint, bigint);
DROP FUNCTION IF EXISTS {s}.tater_audit_min_retention();
DROP TRIGGER IF EXISTS tater_audit_no_truncate ON {s}.audit_auditevent;
DROP FUNCTION IF EXISTS {s}.tater_audit_no_truncate();
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        return schema_editor.quote_name(cursor.fetchone()[0])


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from audit.app_settings import min_retention

    s = _schema(schema_editor)
    days = int(min_retention().days)
    for sql in (ROW_TRIGGER, TRUNCATE_TRIGGER, MIN_RETENTION, PURGE):
        schema_editor.execute(sql.replace("{s}", s).replace("{days}", str(days)), params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    s = _schema(schema_editor)
    for sql in (UNINSTALL, PREVIOUS_ROW_TRIGGER):
        schema_editor.execute(sql.replace("{s}", s), params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_trigger")]

    operations = [migrations.RunPython(install, uninstall)]
