"""A compressed request body is refused as what it is (SPEC §3, RFC 9110 §8.4, RFC 7694).

Tater reads request bodies as they are sent. A client that compresses one (``Content-Encoding:
gzip``, as some HTTP libraries and proxies do on large uploads) used to get a 400 "JSON parse
error" or "not valid utf-8 text", which reads as if its JSON were wrong. HTTP's answer is 415
naming the coding, with ``Accept-Encoding: identity`` saying what is accepted; nothing is stored.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from apikeys.models import ApiKey
from scans.models import Scan

pytestmark = pytest.mark.django_db

BODY = json.dumps({"name": "compressed"}).encode()


def post(api: Any, url: str, raw: bytes, encoding: str | None, **extra: Any) -> Any:
    if encoding is not None:
        extra["HTTP_CONTENT_ENCODING"] = encoding
    return api.generic("POST", url, raw, content_type="application/json", **extra)


def refused(r: Any, coding: str) -> None:
    assert r.status_code == 415, (r.status_code, r.content[:300])
    body = json.loads(r.content)
    assert body["error"] == "UNSUPPORTED_MEDIA_TYPE", body
    assert coding in body["message"], body
    assert r["Accept-Encoding"] == "identity"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "GZIP", "gzip, identity"])
def test_a_compressed_key_body_is_415_and_makes_no_key(api, world, coding):
    before = ApiKey.objects.count()
    r = post(api, "/api/v1/keys/", gzip.compress(BODY), coding, HTTP_X_API_KEY=world["owner_raw"])
    refused(r, coding)
    assert ApiKey.objects.count() == before


def test_a_compressed_scan_upload_is_415_on_both_paths(api, world):
    payload = gzip.compress(json.dumps({"findings": []}).encode())
    for url in ("/api/v1/scans/upload", "/api/scans/upload"):
        refused(post(api, url, payload, "gzip", HTTP_X_API_KEY=world["owner_raw"]), "gzip")
    assert not Scan.objects.exists()


def test_a_compressed_sign_in_is_415(api, world):
    raw = gzip.compress(json.dumps({"email": world["owner"].email, "password": "x"}).encode())
    refused(post(api, "/api/v1/auth/login", raw, "gzip"), "gzip")


def test_a_seed_path_is_refused_the_same_way_in_its_own_format(api, world):
    r = post(api, "/v1/auth/validate", gzip.compress(b"{}"), "gzip", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 415, r.content
    assert "gzip" in json.loads(r.content)["error"]["message"]
    assert r["Accept-Encoding"] == "identity"


def test_a_request_without_a_body_is_not_refused_for_its_coding_header(api, world):
    r = api.get("/api/v1/keys/", HTTP_CONTENT_ENCODING="gzip", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content


@pytest.mark.parametrize("coding", [None, "identity", "Identity", ""])
def test_an_uncompressed_body_is_read_as_before(api, world, coding):
    r = post(api, "/api/v1/keys/", BODY, coding, HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 201, r.content
