from __future__ import annotations

from typing import Any

from audit import services
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Seal every audit chain not yet sealed under the current audit key (an audit.chain_keyed "
        "entry): from then on an entry unkeyed or signed with an older secret is reported as a "
        "forgery. Run once every node runs the keyed release, and after each switch of secret "
        "(after the rollout, not during it); running it again changes nothing."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        sealed = services.seal_chains()
        self.say(f"Sealed {len(sealed)} chain(s)" + (f": {', '.join(sealed)}" if sealed else ""))
        return {"sealed": sealed}
