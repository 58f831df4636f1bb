"""On PostgreSQL, refuse UPDATE and DELETE on the audit table at the database itself, so
not even raw SQL from the application's role can rewrite history. The one exception is
a DELETE in a transaction that set ``tater.audit_purge = 'on'`` (SET LOCAL / set_config
with is_local), which only ``audit.services.audit_purge`` does. SQLite has no such
trigger; there the model and admin refuse changes."""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION tater_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('tater.audit_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS tater_audit_append_only ON audit_auditevent;
CREATE TRIGGER tater_audit_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION tater_audit_append_only();
"""

UNINSTALL = """
DROP TRIGGER IF EXISTS tater_audit_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS tater_audit_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNINSTALL, params=None)


class Migration(migrations.Migration):

    dependencies = [("audit", "0002_chain")]

    operations = [migrations.RunPython(install, uninstall)]
