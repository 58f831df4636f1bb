"""Session 38 review: a seed system's prefix itself, without its trailing slash (SPEC §3, §5a).

SPEC §3: every response under the seed systems' paths is JSON in that system's error format,
"whatever fails: ... a missing or extra trailing slash (both forms are served), unknown
paths ... Never an HTML page, never a 500 for bad input." The catch-alls for a miss under
``/v1/auth/`` and ``/auth/`` made ``/v1/auth/`` and ``/auth/`` routes, so Django's
APPEND_SLASH took ``/v1/auth`` and ``/auth`` for their slash-less form: a GET was an empty
``text/html`` 301, a POST a 500 with DEBUG on (RuntimeError "You called this URL via POST")
and a 301 dropping the body without it (a 404 in the catalog format before). They are now a
404 in the system's shape, as their ``/``-ended form is. [was failing; fixed]
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.surfaces.test_seed_review import tatry_error
from tests.surfaces.test_seed_review_s33 import taffy_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_tatrys_prefix_is_a_tatry_404(api, method):
    assert tatry_error(getattr(api, method)("/v1/auth"), 404)["code"] == "not_found"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_taffys_prefix_is_a_taffy_404(api, method):
    taffy_error(getattr(api, method)("/auth", {}, format="json"), 404)


@override_settings(DEBUG=True)
@pytest.mark.parametrize("path", ["/auth", "/v1/auth"])
def test_a_post_to_the_prefix_is_no_500_with_debug_on(api, path):
    assert api.post(path, {}, format="json").status_code == 404
