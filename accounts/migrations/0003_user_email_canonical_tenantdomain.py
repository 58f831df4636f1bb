"""Verified domains and canonical emails, step 1 (schema): the nullable comparison column
on users and the TenantDomain table."""

import django.db.models.deletion
from django.db import migrations, models

import accounts.models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_loginchallenge_recoverycodedevice_tenantssoconfig_and_more'),
        ('orgs', '0002_invitation'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='email_canonical',
            field=models.CharField(editable=False, max_length=512, null=True),
        ),
        migrations.CreateModel(
            name='TenantDomain',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('domain', models.CharField(help_text='Lower-case ASCII (IDNA) form, e.g. example.com', max_length=253)),
                ('token', models.CharField(default=accounts.models.new_domain_token, editable=False, max_length=64)),
                ('verified_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sso_domains', to='orgs.tenant')),
            ],
            options={
                'ordering': ['domain'],
                'constraints': [
                    models.UniqueConstraint(fields=('tenant', 'domain'), name='tenant_domain_unique'),
                    models.UniqueConstraint(condition=models.Q(('verified_at__isnull', False)), fields=('domain',), name='tenant_domain_verified_once'),
                ],
            },
        ),
    ]
