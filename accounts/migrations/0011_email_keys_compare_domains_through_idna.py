"""Comparison keys of email addresses compare the domain through IDNA (tater.emails).

``boss@xn--bcher-kva.test``, ``boss@bücher.test`` and ``boss@ac\u00adme.test`` (a soft
hyphen, which IDNA drops) name the mailbox of ``boss@bücher.test`` / ``boss@acme.test``:
mail and the verified domains always treated them as one domain, the accounts' keys did
not, so each spelling could become an account of its own. The keys are recomputed:

- ``User.email_canonical``: two accounts whose addresses are now one cannot both stay: the
  migration stops and names them, for an operator to merge or rename one (as 0004 did).
- ``ScimUser.user_name_key`` of the Users in a directory, likewise per tenant.
- ``Invitation.email`` of pending invitations (stored as its key): a new invitation to the
  same address replaces it, and its holder accepts it, whatever spelling was typed.
"""

import unicodedata

from django.db import migrations


def _key(value):
    # tater.emails.normalize_email, frozen here (migrations must not import app code that may change).
    key = unicodedata.normalize("NFKC", value or "").casefold().strip()
    local, at, domain = key.rpartition("@")
    if not at or not domain:
        return key
    try:
        domain = domain.encode("idna").decode("idna")
    except UnicodeError:
        pass
    return f"{local}@{domain}"


def _rekey(queryset, value_field, key_field, scope_field=None):
    """Recompute ``key_field`` from ``value_field``; the pairs of rows whose keys now clash."""
    seen = {}
    clashes = []
    changed = []
    for row in queryset.order_by("pk").iterator():
        key = _key(getattr(row, value_field))
        scope = (getattr(row, scope_field) if scope_field else None, key)
        if scope in seen:
            clashes.append((seen[scope], row.pk))
            continue
        seen[scope] = row.pk
        if getattr(row, key_field) != key:
            changed.append((row.pk, key))
    return clashes, changed


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    ScimUser = apps.get_model("scim", "ScimUser")
    Invitation = apps.get_model("orgs", "Invitation")

    clashes, changed = _rekey(User.objects.only("pk", "email", "email_canonical"), "email", "email_canonical")
    if clashes:
        raise RuntimeError(
            "These accounts have the same email address once its domain is compared through IDNA "
            f"(user ids): {clashes}. Merge or rename one of each pair, then migrate again."
        )
    directory = ScimUser.objects.filter(deleted_at__isnull=True).only("pk", "tenant_id", "user_name", "user_name_key")
    scim_clashes, scim_changed = _rekey(directory, "user_name", "user_name_key", scope_field="tenant_id")
    if scim_clashes:
        raise RuntimeError(
            "These SCIM Users of one tenant have the same userName once its domain is compared through "
            f"IDNA (ScimUser ids): {scim_clashes}. Delete or rename one of each pair, then migrate again."
        )
    # Keys of accounts that changed are unique (checked above); free them first, then set them,
    # so a swap between two rows never meets the unique index half way.
    for pk, _ in changed:
        User.objects.filter(pk=pk).update(email_canonical=f"migrating-{pk}")
    for pk, key in changed:
        User.objects.filter(pk=pk).update(email_canonical=key)
    for pk, _ in scim_changed:
        ScimUser.objects.filter(pk=pk).update(user_name_key=f"migrating-{pk}")
    for pk, key in scim_changed:
        ScimUser.objects.filter(pk=pk).update(user_name_key=key)
    pending = Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True).only("pk", "email")
    for invitation in pending.iterator():
        key = _key(invitation.email)
        if key != invitation.email:
            Invitation.objects.filter(pk=invitation.pk).update(email=key)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0010_user_home_tenant"),
        ("orgs", "0002_invitation"),
        ("scim", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
