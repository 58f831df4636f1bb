"""SPEC §5: interactive docs at /api/docs/. Every keys/ operation showed, as its description,
the internal docstring of the views' base class ("A key endpoint: it reads ... ``query_fields``
... (TaterAPIView.initial, once the caller is authenticated)"): words for maintainers, not for
integrators. No operation's description names the code."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
CODE_WORDS = re.compile(r"TaterAPIView|query_fields|\.initial\b|SPEC §")


def test_no_operation_describes_the_code():
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    leaking = [
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and CODE_WORDS.search(operation.get("description", ""))
    ]
    assert not leaking, leaking
