"""Account events' home tenant (``User.home_tenant``): the field, then each existing user's
first-joined tenant as it stands (accounts.services.first_joined_tenant, frozen here)."""

import django.db.models.deletion
from django.db import migrations, models


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    TenantMembership = apps.get_model("orgs", "TenantMembership")
    OrgMembership = apps.get_model("orgs", "OrgMembership")
    first: dict[int, tuple] = {}
    rows = [
        *TenantMembership.objects.values_list("user_id", "created_at", "pk", "tenant_id"),
        *OrgMembership.objects.values_list("user_id", "created_at", "pk", "organization__tenant_id"),
    ]
    for user_id, created_at, pk, tenant_id in rows:
        seen = first.get(user_id)
        if seen is None or (created_at, pk) < seen[:2]:
            first[user_id] = (created_at, pk, tenant_id)
    for user_id, (_, _, tenant_id) in first.items():
        User.objects.filter(pk=user_id).update(home_tenant_id=tenant_id)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_user_public_id_unique"),
        ("orgs", "0002_invitation"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="home_tenant",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="orgs.tenant",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
