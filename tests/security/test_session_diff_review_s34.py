"""Review of session 34's changes (git diff eb0172b..HEAD), expectations from the SPEC."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.test_protocol_review_s34 import call_wsgi

pytestmark = pytest.mark.django_db


# --- 1. A codec that is no text encoding at all (hex, base64, rot13...) --------------------------
# SPEC §3: "never a 500 for bad input". Python's codecs.lookup knows these names too; Django
# takes them for the request's encoding and decoding the query raises LookupError.


@pytest.mark.parametrize("charset", ["hex", "base64", "rot13", "zlib", "uu", "quopri"])
def test_a_bytes_codec_as_charset_never_escapes_the_application(world, charset):
    status, headers, body = call_wsgi(
        "/api/v1/keys/", "status=%61ctive", f"text/plain; charset={charset}", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert status in (200, 415) and headers["Content-Type"].startswith("application/json"), (status, body[:300])


@pytest.mark.parametrize("charset", ["hex", "base64", "rot13"])
def test_a_bytes_codec_as_charset_on_a_json_body_is_never_a_500(api, world, charset):
    r = api.generic(
        "POST", "/api/v1/keys/", json.dumps({"name": "x"}), content_type=f"application/json; charset={charset}",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code < 500 and r["Content-Type"].startswith("application/json"), (r.status_code, r.content[:300])
