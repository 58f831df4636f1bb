"""A JSON sign-in's 2FA token remembers the password it was issued for (accounts.password_binding):
tokens issued before the column existed are refused (they live five minutes: sign in again)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_lower_case_address_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="loginchallenge",
            name="password_stamp",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
    ]
