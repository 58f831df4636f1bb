"""GitHub's secret-scanning partner endpoint (SPEC §14)."""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apikeys.throttling import count_request
from leaks import app_settings, github
from leaks.api.serializers import SecretLabelOutput, SecretMatchInput
from leaks.services import LeakReport, leak_labels, leaked_keys_revoke
from tater import lockout
from tater.api import parsers
from tater.api.errors import RateLimited, ServiceUnavailable, Unauthorized
from tater.api.schema import error_response
from tater.api.views import TaterAPIView
from tater.client_ip import client_ip
from tater.limiter import Entity

logger = logging.getLogger("leaks")


class SenderThrottle(BaseThrottle):
    """Requests per caller address (``app_settings.rate_rules``), before the signature is
    checked: no key or session identifies the caller here. The decision goes on
    ``request.rate_limit`` like every API request's (its headers: ``finish_response``)."""

    def allow_request(self, request: Request, view: Any) -> bool:
        caller = lockout.client_bucket(client_ip(request._request))  # an IPv6 client per /64
        decision = count_request(request, Entity(f"gss:{caller}", app_settings.rate_rules()))
        if not decision.admitted:
            raise RateLimited(decision)
        return True


class GitHubSecretScanningView(TaterAPIView):
    """GitHub posts the secrets of Tater's formats it finds in public. Only a body signed
    by GitHub is read; each secret Tater issued is revoked at once, and the answer labels
    every token as GitHub's protocol defines. No key or session: GitHub is the caller."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [SenderThrottle]
    reads_raw_body = True  # the signature covers the bytes, whatever the Content-Type: never a 415

    @extend_schema(
        request=SecretMatchInput(many=True),
        parameters=[
            OpenApiParameter(
                "Github-Public-Key-Identifier",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Which of GitHub's published secret-scanning keys signed the body",
            ),
            OpenApiParameter(
                "Github-Public-Key-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Base64 DER ECDSA P-256 / SHA-256 signature of the raw body",
            ),
        ],
        responses={
            200: SecretLabelOutput(many=True),
            401: error_response(401),
            413: error_response(413),
            503: error_response(503),
        },
        auth=[],
        summary="GitHub secret-scanning alert",
    )
    def post(self, request: Request) -> Response:
        body = request.body
        try:
            github.verify(
                body=body,
                key_identifier=request.headers.get("Github-Public-Key-Identifier"),
                signature=request.headers.get("Github-Public-Key-Signature"),
            )
            claim: str | None = github.claim_payload(body)
        except github.Replayed:
            claim = None  # GitHub's retry of an alert acted on: its labels, nothing done again
        except github.SignatureRefused as exc:
            raise Unauthorized(str(exc)) from None
        except github.Unavailable as exc:
            logger.warning("secret scanning: answered 503: %s", exc)
            raise ServiceUnavailable(exc.public_message) from None
        try:
            matches = SecretMatchInput(data=parsers.loads(body), many=True)
            matches.is_valid(raise_exception=True)
            reports = [LeakReport(token=m["token"], url=m["url"], source=m["source"]) for m in matches.validated_data]
            if claim is None:
                verdicts = leak_labels(reports=reports)
            else:
                verdicts = leaked_keys_revoke(reports=reports, found_by="github")
        except BaseException:
            if claim is not None:
                github.release_payload(claim)  # not processed: GitHub's retry must be accepted
            raise
        logger.info("secret scanning: %d token(s) from GitHub, %d true positive(s)", len(verdicts), sum(verdicts))
        return Response(
            [
                {
                    "token_raw": match["token"],
                    "token_type": match["type"],
                    "label": "true_positive" if verdict else "false_positive",
                }
                for match, verdict in zip(matches.validated_data, verdicts, strict=True)
            ]
        )
