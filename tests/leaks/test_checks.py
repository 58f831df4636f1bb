"""`check --deploy` refuses GitHub signing keys fetched without TLS."""

from __future__ import annotations

import pytest
from django.core import checks


def deploy_errors() -> list[str]:
    return [m.id for m in checks.run_checks(include_deployment_checks=True, tags=[checks.Tags.security])]


def test_default_url_passes(settings):
    del settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL
    assert "leaks.E001" not in deploy_errors()


@pytest.mark.parametrize("url", ["http://keys.example.com/secret_scanning", "file:///etc/keys.json", "http://[::1"])
def test_plain_http_or_other_schemes_fail(settings, url):
    settings.TATER_GITHUB_SECRET_SCANNING_KEYS_URL = url
    assert "leaks.E001" in deploy_errors()
