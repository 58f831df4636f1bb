"""Session 38 review: gunicorn started with ``tater.operations.gunicorn_conf`` reads
``LOG_LEVEL`` as the app does.

README: ``LOG_LEVEL`` takes the level names in any case (today's change read ``warning`` as
``WARNING`` in tater.settings). gunicorn_conf passed the raw value to its own logger, so
``LOG_LEVEL=warning`` still kept gunicorn from starting ("Error: Unable to configure logger
'gunicorn.error'", exit 1), and ``LOG_LEVEL=LOUD`` stopped it without naming the variable.
Both read the variable the same way now. [was failing; fixed]
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gunicorn_server import gunicorn


@pytest.mark.parametrize("level", ["warning", "Info"])
def test_a_level_in_any_case_starts(tmp_path: Path, level: str) -> None:
    with gunicorn(tmp_path, LOG_LEVEL=level) as server:
        assert server.get("/healthz") == 200, server.stderr


def test_an_unknown_level_stops_the_start_naming_the_variable(tmp_path: Path) -> None:
    with gunicorn(tmp_path, LOG_LEVEL="LOUD") as server:
        assert not server.up
    assert "LOG_LEVEL must be one of" in server.stderr, server.stderr
