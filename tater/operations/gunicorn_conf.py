"""gunicorn settings for Tater: ``gunicorn -c python:tater.operations.gunicorn_conf tater.wsgi``.

Prometheus multiprocess mode: every worker writes its metric values to files in
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics``, whichever worker answers it, adds up all of
them. The variable must be in the environment before any worker imports prometheus-client:
when it is not set, this file creates a private directory (removed when gunicorn exits)
and sets it for the workers. A directory you set yourself must belong to this one gunicorn
master: it is emptied when the master starts (values of an earlier run would be added in).

Logs: gunicorn's own lines in the same format as the app's (``TATER_LOG_FORMAT``; JSON by
default when ``DJANGO_DEBUG`` is off). gunicorn's access log stays off, and so does its
``pre_request`` line (every request at DEBUG): both write raw paths (tokens in invitation,
reset and confirmation links); the app writes one access line per request instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
from typing import Any

_owned_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _owned_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tater-metrics-")
MULTIPROC_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"]

from prometheus_client import multiprocess  # noqa: E402 - only once the directory is set

from tater.env import LOG_LEVELS, env_bool, env_choice  # noqa: E402
from tater.operations import gunicorn_errors  # noqa: E402

# What gunicorn answers itself (an oversized header, a garbled request line): JSON too.
gunicorn_errors.install()

# Read as tater.settings reads them (the workers' app): one spelling, one meaning.
_debug = env_bool("DJANGO_DEBUG", True, empty=False)
_log_level = env_choice("LOG_LEVEL", "INFO", LOG_LEVELS, upper=True)
_log_format = env_choice("TATER_LOG_FORMAT", "text" if _debug else "json", ("json", "text"), lower=True)

accesslog = None
# No control socket (gunicorn 25+): its default path is one per user, shared by every
# instance on the host (several nodes, the tests' three), and the last to stop removes it;
# resizing the embedded default through it would split its in-process cache and limits.
control_socket_disable = True
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "tater": {"()": f"tater.operations.logs.{'JsonFormatter' if _log_format == 'json' else 'TextFormatter'}"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "tater", "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"level": _log_level, "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}


def pre_request(worker: Any, req: Any) -> None:
    """Nothing: gunicorn's default logs ``<method> <raw path>`` at DEBUG, before the app runs
    (no request to redact the path by)."""


def on_starting(server: Any) -> None:
    """Values left by an earlier run would be added to this one's."""
    os.makedirs(MULTIPROC_DIR, exist_ok=True)
    for path in glob.glob(os.path.join(MULTIPROC_DIR, "*.db")):
        os.remove(path)


def child_exit(server: Any, worker: Any) -> None:
    """A worker's counters stay (they are totals); its live gauges go."""
    multiprocess.mark_process_dead(worker.pid, MULTIPROC_DIR)


def on_exit(server: Any) -> None:
    if _owned_dir:
        shutil.rmtree(MULTIPROC_DIR, ignore_errors=True)
