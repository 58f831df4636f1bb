"""SPEC §14 (usage-limited keys: a number of uses; exhausted → 429 USAGE_EXHAUSTED) and the
README's decision on which answers take a use (a request refused before it is served takes
none, one served takes one): a method the endpoint does not serve (``DELETE`` on
``auth/validate``, 405 METHOD_NOT_ALLOWED) took a use, as if it had been served, while an
unknown path (404 before any view) took none. A method the view never serves is not a request
served: it now takes no use, like the unknown path."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import make_key

pytestmark = pytest.mark.django_db

VALIDATE = "/api/v1/auth/validate"


def test_a_method_the_endpoint_does_not_serve_takes_no_use(world: dict[str, Any]) -> None:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2)
    client = APIClient()
    for _ in range(3):
        refused = client.delete(VALIDATE, HTTP_X_API_KEY=raw)
        assert refused.status_code == 405, refused.content
        assert refused.json()["error"] == "METHOD_NOT_ALLOWED"
    served = [client.get(VALIDATE, HTTP_X_API_KEY=raw).status_code for _ in range(3)]
    assert served == [200, 200, 429], served  # both uses were still there


def test_head_and_get_each_take_one(world: dict[str, Any]) -> None:
    _, raw = make_key(user=world["owner"], tenant=world["tenant"], org=world["org1"], usage_limit=2)
    client = APIClient()
    assert client.head(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    assert client.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 200
    assert client.get(VALIDATE, HTTP_X_API_KEY=raw).status_code == 429
