"""Opaque user ids, step 2 (data): every existing user gets its own ``usr-<uuid4>``."""

import uuid

from django.db import migrations

BATCH = 1000


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    # accounts.models.new_user_id, frozen here (migrations must not import app code that may change).
    pending = User.objects.filter(public_id__isnull=True).order_by("pk").only("pk")
    batch = []
    for user in pending.iterator(chunk_size=BATCH):
        user.public_id = f"usr-{uuid.uuid4()}"
        batch.append(user)
        if len(batch) >= BATCH:
            User.objects.bulk_update(batch, ["public_id"])
            batch = []
    if batch:
        User.objects.bulk_update(batch, ["public_id"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_user_public_id'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
