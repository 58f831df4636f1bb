"""An index for the audit log's ``target`` filter (entries about one key, person or org).

The audit table is the biggest one and written on every change, so on PostgreSQL the index is
built ``CONCURRENTLY`` (no lock on writes while it builds; hence a non-atomic migration);
elsewhere as any index."""

from django.db import migrations, models

INDEX = models.Index(fields=["target_id", "-id"], name="audit_target_id_desc")


def build(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX CONCURRENTLY IF NOT EXISTS "audit_target_id_desc" '
            'ON "audit_auditevent" ("target_id", "id" DESC)'
        )
    else:
        schema_editor.add_index(apps.get_model("audit", "AuditEvent"), INDEX)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('DROP INDEX CONCURRENTLY IF EXISTS "audit_target_id_desc"')
    else:
        schema_editor.remove_index(apps.get_model("audit", "AuditEvent"), INDEX)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0005_scim_channel")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(build, drop)],
            state_operations=[migrations.AddIndex(model_name="auditevent", index=INDEX)],
        )
    ]
