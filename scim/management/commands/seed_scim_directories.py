from __future__ import annotations

from typing import Any

from scim.services import directory
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "List the members of every tenant with a SCIM directory that it does not hold yet (directories "
        "created before the first token seeded them); audited (channel system), safe to run again."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        seeded = directory.directories_seed()
        self.say(f"Seeded {len(seeded)} directories ({sum(seeded.values())} members listed).")
        return {"tenants": seeded}
