from __future__ import annotations

from typing import Any

from orgs import email_owners
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "List addresses that more than one account holds under some spelling (straße@ and strasse@, "
        "bücher.test and xn--bcher-kva.test): one address belongs to one person (SPEC §8). Settle each "
        "by removing the address from the account that should not hold it (admin: Email addresses)."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        shared = email_owners.shared_addresses()
        for entry in shared:
            self.say(f"{entry['address']} is held by {len(entry['accounts'])} accounts:")
            for holding in entry["accounts"]:
                how = "primary" if holding["primary"] else "additional"
                proved = "verified" if holding["verified"] else "unverified"
                self.say(f"  {holding['user_id']}  {holding['email']}  ({how}, {proved})")
        if not shared:
            self.say("No address is held by more than one account.")
        return {"shared": shared}
