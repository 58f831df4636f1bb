"""Opaque user ids, step 1 (schema): ``User.public_id``, nullable and not yet unique so the
existing rows can be given distinct values first (step 2)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_loginchallenge_webauthn_state'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='public_id',
            field=models.CharField(editable=False, max_length=48, null=True),
        ),
    ]
