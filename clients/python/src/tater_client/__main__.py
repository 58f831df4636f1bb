"""``python -m tater_client``: the ``tater`` command."""

from __future__ import annotations

from tater_client.cli import main

raise SystemExit(main())
