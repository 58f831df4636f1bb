"""SPEC §3 (bad body or query → 400 VALIDATION_ERROR naming the field) and README's "unknown query
parameters" decision: ``POST /api/v1/scim-tokens/<id>/revoke/`` ignored any query parameter
(``?reason=leaked`` or ``?dry_run=1`` revoked the token as if absent, the caller believing the
parameter applied), where every other endpoint, ``POST keys/<id>/revoke/`` included, answers 400
naming it. Now it does too, and nothing is revoked; the org hints stay accepted."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from scim.models import ScimToken

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/scim-tokens/"


def _owner(acme: Any) -> APIClient:
    client = APIClient()
    client.force_login(acme.owner)
    return client


@pytest.mark.parametrize("query", ["dry_run=1", "reason=leaked", "grace_period_seconds=0"])
def test_an_unknown_query_parameter_is_a_400_and_nothing_is_revoked(acme, query):
    answer = _owner(acme).post(f"{TOKENS}{acme.token.public_id}/revoke/?{query}")
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert query.split("=")[0] in body["details"]["fields"]
    assert ScimToken.objects.get(pk=acme.token.pk).revoked_at is None
    assert not AuditEvent.objects.filter(action="scim_token.revoked").exists()


def test_the_org_hints_and_no_query_still_revoke(acme):
    hinted = _owner(acme).post(f"{TOKENS}{acme.token.public_id}/revoke/?tenantId={acme.tenant.public_id}")
    assert hinted.status_code == 200, hinted.content
    assert hinted.json()["status"] == "revoked"


# The API views that read no query of their own on purpose: GitHub's secret-scanning partner
# endpoint (GitHub is the caller; a leaked key is revoked whatever its URL carries) and the
# seed systems' not-found catch-alls (a 404 whatever the query).
EXEMPT = {"leaks.api.views.GitHubSecretScanningView", "surfaces.urls.Miss"}


def _routes(patterns: Any, prefix: str = "") -> Any:
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), getattr(pattern.callback, "view_class", None)


def test_every_api_view_declares_the_query_it_reads():
    """Generated from the URL conf: a new endpoint that forgets ``query_fields`` fails here."""
    from django.urls import get_resolver

    from tater.api.views import TaterAPIView

    missing = sorted(
        f"{route} ({view.__module__}.{view.__name__})"
        for route, view in _routes(get_resolver().url_patterns)
        if isinstance(view, type)
        and issubclass(view, TaterAPIView)
        and view.query_fields is None
        and f"{view.__module__}.{view.__name__}" not in EXEMPT
    )
    assert not missing
