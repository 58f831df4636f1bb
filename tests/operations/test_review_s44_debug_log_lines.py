"""Session 44 review: with ``DJANGO_DEBUG`` on, Django's lines are written once, by Tater's
formatter (SPEC §12: "Logs are JSON lines with the request id; no secret ever appears in
them").

``LOGGING`` left Django's own default handler on the ``django`` logger: with debug on it
printed every ``django.*`` line a second time, as bare text with the raw path and an
unredacted traceback (``Internal Server Error: /invitations/<token>/``), beside the JSON line
the root handler wrote. [was failing; fixed]
"""

from __future__ import annotations

import copy
import io
import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils.log import configure_logging

_LOGGERS = ("", "django", "django.request", "django.server", "django.security", "django.template", "tater.access")


@pytest.fixture
def stderr(settings: Any) -> Iterator[io.StringIO]:
    """Logging as a process started with ``DJANGO_DEBUG=1 TATER_LOG_FORMAT=json`` has it; what
    its handlers write to stderr."""
    written = io.StringIO()
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    saved = [(lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in loggers]
    settings.DEBUG = True
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["formatter"] = "json"
    configure_logging(settings.LOGGING_CONFIG, config)
    for lg in loggers:
        for handler in lg.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(written)
    try:
        yield written
    finally:
        for lg, (handlers, level, propagate, disabled) in zip(loggers, saved, strict=True):
            lg.handlers[:] = handlers
            lg.level, lg.propagate, lg.disabled = level, propagate, disabled


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.operations.urls")
def test_debug_lines_are_json_and_hold_no_path(stderr: io.StringIO) -> None:
    token = secrets.token_urlsafe(32)
    response = Client(raise_request_exception=False).get(f"/ops-test/boom/{token}/")
    assert response.status_code == 500
    lines = [line for line in stderr.getvalue().splitlines() if line.strip()]
    assert lines
    assert all(line.startswith("{") for line in lines), "\n".join(lines)
    records = [json.loads(line) for line in lines]  # every line a JSON object
    assert token not in "\n".join(lines)
    errors = [record for record in records if record["logger"] == "django.request"]
    assert len(errors) == 1, records
    assert errors[0]["message"] == "Internal Server Error: /ops-test/boom/<str:token>/"
