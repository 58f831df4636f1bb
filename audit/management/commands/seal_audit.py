from __future__ import annotations

from typing import Any

from audit import services
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Seal every audit chain that started before the chain was keyed (an audit.chain_keyed "
        "entry): from then on an unkeyed entry is reported as a forgery. Run once every node runs "
        "the keyed release (after the rollout, not during it); running it again changes nothing."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        sealed = services.seal_unkeyed_chains()
        self.say(f"Sealed {len(sealed)} chain(s)" + (f": {', '.join(sealed)}" if sealed else ""))
        return {"sealed": sealed}
