"""Every key's rotated-out secret (``previous_digest``) as a RetiredSecret (SPEC §14): a key
rotated before 0007 and again after would otherwise forget the first secret, and a leak of
it would be a false positive. Whether that rotation went through the key itself is read
from its latest ``api_key.rotated`` audit entry (the key that acted is the key)."""

from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    ApiKey = apps.get_model("apikeys", "ApiKey")
    RetiredSecret = apps.get_model("apikeys", "RetiredSecret")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    known = set(RetiredSecret.objects.values_list("digest", flat=True))
    keys = ApiKey.objects.filter(previous_digest__isnull=False).exclude(previous_digest="")
    for key in keys.only("pk", "public_id", "tenant_id", "previous_digest").iterator():
        if key.previous_digest in known:
            continue
        latest = (
            AuditEvent.objects.filter(tenant_id=key.tenant_id, action="api_key.rotated", target_id=key.public_id)
            .order_by("-pk")
            .values("api_key_id", "created_at")
            .first()
        )
        RetiredSecret.objects.create(
            api_key_id=key.pk,
            digest=key.previous_digest,
            retired_at=latest["created_at"] if latest else timezone.now(),
            rotated_through_itself=bool(latest) and latest["api_key_id"] == key.public_id,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("apikeys", "0007_retired_secret"),
        ("audit", "0005_scim_channel"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
