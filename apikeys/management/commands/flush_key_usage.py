from __future__ import annotations

from typing import Any

from apikeys import usage
from tater.commands import TaterCommand


class Command(TaterCommand):
    help = (
        "Move per-key request/error counters from the cache into the hourly usage table and "
        "prune rows past TATER_USAGE_RETENTION_DAYS. Run it every few minutes (cron) with Redis."
    )

    def run(self, **options: Any) -> dict[str, Any]:
        result = usage.flush()
        if not result.flushed:
            self.say("Another process is flushing key usage right now; nothing done.")
        else:
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
