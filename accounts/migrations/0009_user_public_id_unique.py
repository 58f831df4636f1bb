"""Opaque user ids, step 3 (schema): ``public_id`` is required and unique, new users get one
by default."""

import accounts.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0008_fill_user_public_id'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='public_id',
            field=models.CharField(default=accounts.models.new_user_id, editable=False, max_length=48, unique=True),
        ),
    ]
