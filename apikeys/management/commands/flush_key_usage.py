from __future__ import annotations

from typing import Any

from apikeys import usage
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Prune hourly usage rows past TATER_USAGE_RETENTION_DAYS (run it daily from cron). "
        "Request processes add their own counts every TATER_USAGE_FLUSH_INTERVAL seconds."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        result = usage.flush()
        if result.flushed:
            self.say(
                f"Flushed {result.requests} requests and {result.errors} errors into {result.rows} hourly rows; "
                f"pruned {result.pruned} old rows."
            )
        return {
            "flushed": result.flushed,
            "rows": result.rows,
            "requests": result.requests,
            "errors": result.errors,
            "pruned": result.pruned,
        }
