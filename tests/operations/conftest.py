from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tater.operations.logs import JsonFormatter, TextFormatter
from tests.factories import make_key, make_tenant

# Every logger the app and its libraries write to, at DEBUG for the capture.
LOGGERS = (
    "django",
    "tater",
    "apikeys",
    "accounts",
    "orgs",
    "audit",
    "scans",
    "scim",
    "leaks",
    "allauth",
    "py.warnings",
)


class CapturedLogs:
    """What the JSON and the text formatter wrote, through handlers on the root logger."""

    def __init__(self) -> None:
        self.json_stream = io.StringIO()
        self.text_stream = io.StringIO()

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.json_stream.getvalue().splitlines() if line.strip()]

    def text_lines(self) -> list[str]:
        return [line for line in self.text_stream.getvalue().splitlines() if line.strip()]

    def everything(self) -> str:
        return self.json_stream.getvalue() + "\n" + self.text_stream.getvalue()


@pytest.fixture
def captured_logs() -> Iterator[CapturedLogs]:
    captured = CapturedLogs()
    handlers = [logging.StreamHandler(captured.json_stream), logging.StreamHandler(captured.text_stream)]
    handlers[0].setFormatter(JsonFormatter())
    handlers[1].setFormatter(TextFormatter())
    for handler in handlers:
        # factory_boy's DEBUG trace of test fixtures (set_password arguments): not the app.
        handler.addFilter(lambda record: not record.name.startswith("factory"))
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [root.level, *(lg.level for lg in loggers)]
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(levels[0])
        for lg, level in zip(loggers, levels[1:], strict=True):
            lg.setLevel(level)


@pytest.fixture
def keyworld(db: Any) -> dict[str, Any]:
    tenant, owner, (org,) = make_tenant(name="Operations", orgs=1, plan="enterprise")
    key, raw = make_key(user=owner, tenant=tenant, org=org, name="reader")
    return {"tenant": tenant, "owner": owner, "org": org, "key": key, "raw": raw}
