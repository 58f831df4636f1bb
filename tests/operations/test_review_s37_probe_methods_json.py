"""``/healthz`` and ``/readyz`` answer JSON, and ``/readyz`` refuses in the catalog format
(SPEC §12, §3): a probe or a script that calls them with the wrong method gets the
catalog's 405 ``METHOD_NOT_ALLOWED`` (with ``Allow``), not an empty HTML page. ``/metrics``
refused to a stranger stays the 404 of an unknown path."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_wrong_method_is_the_catalog_405(path: str, method: str) -> None:
    response = getattr(Client(), method)(path)
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "METHOD_NOT_ALLOWED" and body["message"]
    assert body["request_id"] == response["X-Request-ID"]
    assert response["Allow"] == "GET, HEAD"


def test_stranger_posting_to_metrics_still_gets_a_404() -> None:
    assert Client(REMOTE_ADDR="203.0.113.9").post("/metrics").status_code == 404
