"""An account's sign-out generation (accounts.sign_in_binding): "sign out everywhere" also ends
the sign-ins still waiting for their second factor."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_loginchallenge_password_stamp'),
    ]

    operations = [
        migrations.CreateModel(
            name='SignOutGeneration',
            fields=[
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to=settings.AUTH_USER_MODEL)),
                ('number', models.PositiveBigIntegerField(default=0)),
            ],
        ),
    ]
