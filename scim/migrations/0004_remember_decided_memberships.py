"""Users provisioned before 0003 remember the membership their groups decided in each org
(scim.services.provisioning.apply_groups), so an admin's removal of one stands for them too,
whether made before the upgrade or before their groups next change. An org whose membership
is gone was ended outside SCIM (SCIM itself forgets the orgs whose memberships it ends): it is
remembered as ended (0, which no membership's id is)."""

from django.db import migrations

ENDED = 0


def remember_decided_memberships(apps, schema_editor):
    ScimUser = apps.get_model("scim", "ScimUser")
    OrgMembership = apps.get_model("orgs", "OrgMembership")
    identities = ScimUser.objects.filter(user__isnull=False, deleted_at__isnull=True).exclude(active=False)
    for identity in identities.iterator():
        orgs = {int(pk) for pk in (*identity.granted_roles, *identity.hand_roles)}
        if identity.decided_memberships or not orgs:
            continue
        held = dict(
            OrgMembership.objects.filter(user_id=identity.user_id, organization_id__in=orgs).values_list(
                "organization_id", "pk"
            )
        )
        identity.decided_memberships = {str(pk): held.get(pk, ENDED) for pk in sorted(orgs)}
        identity.save(update_fields=["decided_memberships"])


class Migration(migrations.Migration):
    dependencies = [
        ("scim", "0003_scimuser_decided_memberships"),
        ("orgs", "0002_invitation"),
    ]

    operations = [migrations.RunPython(remember_decided_memberships, migrations.RunPython.noop)]
