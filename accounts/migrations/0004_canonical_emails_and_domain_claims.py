"""Verified domains and canonical emails, step 2 (data).

- Every user gets ``email_canonical`` (NFKC + case folded email). Two accounts whose
  addresses are equal under that comparison cannot both stay: the migration stops and
  names them, for an operator to merge or rename one (a look-alike sign-up such as
  ``owner@x.teſt`` next to ``owner@x.test`` is exactly what this closes).
- The ``email_domain`` each SSO configuration used to route on becomes a *pending* claim of
  its tenant: it routes nothing until the tenant owner publishes the TXT record and presses
  Verify (``/accounts/sso/``). Routing on an unproven domain is the hole being closed.
"""

import secrets
import unicodedata

from django.db import migrations


def _normalize(value):
    # tater.emails.normalize_email, frozen here (migrations must not import app code that may change).
    return unicodedata.normalize("NFKC", value or "").casefold().strip()


def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    seen = {}
    clashes = []
    for user in User.objects.order_by("pk").only("pk", "email").iterator():
        key = _normalize(user.email)
        if key in seen:
            clashes.append((seen[key], user.pk))
            continue
        seen[key] = user.pk
        User.objects.filter(pk=user.pk).update(email_canonical=key)
    if clashes:
        raise RuntimeError(
            "These accounts have the same email address after NFKC normalisation and case folding "
            f"(user ids): {clashes}. Merge or rename one of each pair, then migrate again."
        )
    TenantSSOConfig = apps.get_model("accounts", "TenantSSOConfig")
    TenantDomain = apps.get_model("accounts", "TenantDomain")
    for config in TenantSSOConfig.objects.exclude(email_domain=""):
        try:
            domain = _normalize(config.email_domain).lstrip("@").rstrip(".").encode("idna").decode("ascii")
        except UnicodeError:
            continue  # not a domain name: nothing to claim
        if domain:
            TenantDomain.objects.get_or_create(
                tenant_id=config.tenant_id, domain=domain, defaults={"token": secrets.token_urlsafe(24)},
            )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_user_email_canonical_tenantdomain'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
