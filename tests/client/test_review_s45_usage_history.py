"""Review s45: ``GET keys/{id}/usage/`` (README "Endpoints": hourly requests and errors,
``?hours=`` / ``?days=``; docs/ratelimit.md) had no call in the client: an integrator charting
a key's traffic fell back to ``tater.request`` and parsed dates by hand, while every other
documented key endpoint has a typed call.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from tater_client import NotFound, UsageHistory, ValidationError


def test_a_keys_hourly_requests_and_errors(acme, connect, tater):
    key, raw = acme.key(scopes=["scans:read"], name="charted")
    used = connect(raw)
    used.validate()
    with pytest.raises(Exception):
        used.keys.list()  # no keys:read: a 403, counted as an error
    history = tater.keys.usage_history(key.public_id, hours=3)
    assert isinstance(history, UsageHistory)
    assert history.key_id == key.public_id and history.granularity == "hour"
    assert isinstance(history.start, datetime) and history.start.tzinfo is not None
    assert len(history.buckets) == 3 and history.buckets[0].hour < history.buckets[-1].hour
    assert (history.requests, history.errors) == (2, 1)
    assert sum(b.requests for b in history.buckets) == 2
    assert len(tater.keys.usage_history(key.public_id, days=2).buckets) >= 24


def test_its_errors(tater, acme):
    with pytest.raises(ValidationError):
        tater.keys.usage_history(acme.owner_key.public_id, hours=0)
    with pytest.raises(NotFound):
        tater.keys.usage_history("key-00000000-0000-4000-8000-000000000000")
