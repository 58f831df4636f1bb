"""The hash chain: a head row per chain, existing entries linked in id order, and one
entry per (chain, seq)."""

import django.db.models.deletion
from django.db import migrations, models


def link_existing_entries(apps, schema_editor):
    # Entries written before the chain existed (seq 0) are chained in id order, per tenant.
    from audit.chain import HASHED_FIELDS, chain_key, compute_hash
    from audit.models import GENESIS_HASH

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    tenant_ids = AuditEvent.objects.order_by().values_list("tenant_id", flat=True).distinct()
    for tenant_id in list(tenant_ids):
        seq, prev_hash = 0, GENESIS_HASH
        for event in AuditEvent.objects.filter(tenant_id=tenant_id).order_by("id").iterator():
            seq += 1
            event.seq, event.prev_hash = seq, prev_hash
            event.entry_hash = compute_hash({name: getattr(event, name) for name in HASHED_FIELDS}, prev_hash)
            AuditEvent.objects.filter(pk=event.pk).update(seq=seq, prev_hash=prev_hash, entry_hash=event.entry_hash)
            prev_hash = event.entry_hash
        AuditChainHead.objects.create(chain=chain_key(tenant_id), tenant_id=tenant_id, last_seq=seq, last_hash=prev_hash)


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
        ("orgs", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("chain", models.CharField(max_length=40, unique=True)),
                ("last_seq", models.BigIntegerField(default=0)),
                ("last_hash", models.CharField(default="0000000000000000000000000000000000000000000000000000000000000000", max_length=64)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("tenant", models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="orgs.tenant")),
            ],
            options={"verbose_name": "audit chain head"},
        ),
        migrations.RunPython(link_existing_entries, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(fields=("tenant", "seq"), name="audit_chain_seq_unique"),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(condition=models.Q(("tenant__isnull", True)), fields=("seq",), name="audit_global_chain_seq_unique"),
        ),
    ]
