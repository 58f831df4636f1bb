"""The ``scim`` audit channel: writes made by a tenant's identity provider through SCIM."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [("audit", "0004_db_roles_purge_function")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="channel",
            field=models.CharField(
                choices=[("ui", "UI"), ("api", "API"), ("admin", "Admin"), ("system", "System"), ("scim", "SCIM")],
                max_length=10,
            ),
        ),
    ]
