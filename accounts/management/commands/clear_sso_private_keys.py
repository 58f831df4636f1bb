from __future__ import annotations

from typing import Any

from accounts import sso
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Replace every private key stored as a tenant's IdP signing certificate (saved before the check "
        "refused one) with empty, audited. The owner then pastes the certificate; SAML sign-ins of that "
        "tenant are refused until then."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        cleared = sso.sso_stored_private_keys_clear()
        for config in cleared:
            self.say(f"Cleared the private key stored for {config.tenant.name} ({config.tenant.public_id})")
        if not cleared:
            self.say("No private key is stored as an IdP signing certificate.")
        return {"cleared": [config.tenant.public_id for config in cleared]}
