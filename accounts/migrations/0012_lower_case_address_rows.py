"""Address rows (allauth's EmailAddress) are kept lower-cased, as allauth writes them:
``orgs.email_owners`` finds an additional address by a lower-cased, case-sensitive prefix,
so a row written in mixed case (SCIM's address of a provisioned account, an operator's in
the admin) was invisible to sign-in and to the "one address, one account" checks. Each such
row is lower-cased; one that duplicates another row of its account is merged into it
(verified and primary carried over); one whose lower-cased form another account holds
verified is left as it is (``manage.py shared_addresses`` lists it for an operator)."""

from django.db import migrations


def lower_case(apps, schema_editor):
    EmailAddress = apps.get_model("account", "EmailAddress")
    for row in EmailAddress.objects.order_by("pk").iterator():
        lowered = row.email.lower()
        if lowered == row.email:
            continue
        twin = EmailAddress.objects.filter(user_id=row.user_id, email=lowered).first()
        if twin is not None:
            twin.verified = twin.verified or row.verified
            twin.primary = twin.primary or row.primary
            row.delete()
            twin.save(update_fields=["verified", "primary"])
            continue
        if row.verified and EmailAddress.objects.filter(email=lowered, verified=True).exclude(pk=row.pk).exists():
            continue
        row.email = lowered
        row.save(update_fields=["email"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0011_email_keys_compare_domains_through_idna"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(lower_case, migrations.RunPython.noop)]
