"""Verified domains and canonical emails, step 3 (schema): one account per canonical email;
SSO configurations no longer carry a routing domain (TenantDomain does)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0004_canonical_emails_and_domain_claims'),
    ]

    operations = [
        migrations.AlterField(
            model_name='user',
            name='email_canonical',
            field=models.CharField(editable=False, max_length=512, unique=True),
        ),
        migrations.RemoveField(
            model_name='tenantssoconfig',
            name='email_domain',
        ),
        migrations.AlterField(
            model_name='tenantssoconfig',
            name='require_sso',
            field=models.BooleanField(default=False, help_text="Refuse password sign-in for the tenant's members in its verified domains"),
        ),
    ]
