"""SPEC §12 (several app nodes, possibly on one host) and the tests' three nodes: gunicorn 25+
opens a control socket at one path per user (``$XDG_RUNTIME_DIR/gunicorn.ctl`` or
``~/.gunicorn/gunicorn.ctl``), the same for every instance. A second instance took the first
one's socket and, when it stopped, removed it; ``gunicornc`` could resize the embedded
default, whose in-process cache and rate limits must stay in one process. Tater's gunicorn
configuration opens none."""

from __future__ import annotations

import time
from pathlib import Path

from tests.gunicorn_server import gunicorn


def test_gunicorn_opens_no_control_socket(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with gunicorn(tmp_path, drop=("XDG_RUNTIME_DIR",), HOME=str(home)) as server:
        assert server.up, "gunicorn did not start"
        time.sleep(0.5)  # the arbiter opens its control socket once the workers run
        assert not list(home.rglob("*.ctl")), "gunicorn opened a control socket at the shared default path"
