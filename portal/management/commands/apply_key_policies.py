from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from apikeys import reactions
from apikeys.models import ApiKey
from orgs.models import Tenant
from scim.models import ScimUser
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Apply to the keys issued before this release what the release applies as things change: "
        "revoke the keys of owners removed from their org or tenant (a re-add would revive them; "
        "people suspended by their tenant's directory, SCIM active: false, keep theirs for their "
        "return) and cap keys that outlive their tenant's maximum key lifetime at that many days "
        "from now. Audited like the changes themselves; running it again changes nothing. Run once "
        "every node runs the release (keys orphaned during the rollout are caught too)."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        revoked = capped = 0
        for tenant in Tenant.objects.order_by("pk"):
            with transaction.atomic():
                suspended = set(
                    ScimUser.objects.filter(tenant=tenant, active=False, deleted_at__isnull=True).values_list(
                        "user_id", flat=True
                    )
                )
                owners = (
                    ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True)
                    .exclude(owner_id__in=suspended)
                    .values_list("owner", flat=True)
                    .distinct()
                )
                for owner in get_user_model().objects.filter(pk__in=list(owners)).order_by("pk"):
                    revoked += reactions.keys_revoke_unreached(tenant=tenant, user=owner)
                if tenant.max_key_lifetime_days:
                    capped += reactions.keys_cap_lifetime(tenant=tenant, days=tenant.max_key_lifetime_days)
        self.say(
            f"Revoked {revoked} key(s) of removed owners; capped {capped} key(s) at their tenant's maximum lifetime"
        )
        return {"revoked": revoked, "capped": capped}
