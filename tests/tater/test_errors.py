"""The shared API plumbing: every error in the catalog format, with a request id."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from tater.api.views import TaterAPIView
from tater.urls import urlpatterns as real_patterns


class Boom(TaterAPIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals /etc/passwd")


urlpatterns = [path("api/v1/boom", Boom.as_view()), *real_patterns]


@pytest.mark.urls("tests.tater.test_errors")
def test_unhandled_error_is_json_500_without_traceback(db):
    client = Client(raise_request_exception=False)
    r = client.get("/api/v1/boom")
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == "INTERNAL_ERROR"
    assert body["details"]["request_id"] == r["X-Request-ID"]
    assert "Traceback" not in r.content.decode() and "passwd" not in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/unknown", "/api/nothing/at/all", "/api/v1/keys/x/y/z/"])
def test_unknown_api_urls_are_json_404(url):
    r = Client().get(url)
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["error"] == "NOT_FOUND"


@pytest.mark.django_db
def test_non_api_404_is_html():
    r = Client().get("/definitely-not-a-page/")
    assert r.status_code == 404
    assert not r["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_malformed_json_body(world):
    r = Client().post(
        "/api/v1/keys/", data="{not json", content_type="application/json", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert r.status_code == 400
    assert r.json()["error"] == "VALIDATION_ERROR"


@pytest.mark.django_db
def test_request_id_echoed_when_well_formed():
    r = Client().get("/api/v1/health", HTTP_X_REQUEST_ID="abc-123-def-456")
    assert r["X-Request-ID"] == "abc-123-def-456"
    r = Client().get("/api/v1/health", HTTP_X_REQUEST_ID="<script>")
    assert r["X-Request-ID"] != "<script>"
