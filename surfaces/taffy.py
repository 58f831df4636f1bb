"""Taffy's credential exchange (SPEC §5a; docs/migrating-from-taffy.md).

- ``POST /auth/token`` with ``username`` (the account's email), ``password`` and, under
  2FA, ``code``, as JSON or as a form post (urlencoded or multipart, as ``curl -F`` sends): the core's credential exchange (``POST
  /api/v1/auth/token``: the same rate limit, lockout, second factor and policy,
  ``orgs.policy.can_exchange_credentials``, tenant owners only by default), answering the
  new key and the header names to send it in.

Answers are Taffy's ``{"errors": [...], "data": ...}``: a success is a 200 with ``errors``
empty; a refusal keeps its HTTP status (400, 401, 403, 429) with plain-English messages in
``errors`` and ``data`` null.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, MultiPartParser

from accounts.api import views as account_views
from surfaces.envelope import CatalogError, Envelope, SurfaceView
from tater.api.parsers import JSONParser

# Core field name → Taffy's.
WIRE_NAMES = {"email": "username"}


def core_body(data: Any) -> Any:
    """Taffy's body as the core reads it: the email arrives as ``username``."""
    if not isinstance(data, dict) or "username" not in data:
        return data
    if "email" in data:
        raise ParseError("send the account's email as username, not both username and email")
    data = dict(data)
    data["email"] = data.pop("username")
    return data


# The exchange's list fields: in a form, the list of the field's values, named once or
# repeated (``-F scopes=keys:read -F scopes=scans:read``, as HTML forms, curl and Postman send a
# list), so a form post can ask for a narrower key, as the JSON body can.
LIST_FIELDS = frozenset({"scopes"})


def once_each(form: Any) -> dict[str, Any]:
    """A form's fields as a dict; a field named twice is refused, as a JSON member named
    twice is (tater.api.parsers): never the last value silently winning over the first.
    ``LIST_FIELDS`` are lists of every value given."""
    twice = sorted(name for name, values in form.lists() if len(values) > 1 and name not in LIST_FIELDS)
    if twice:
        raise ParseError(f"Field {twice[0][:60]!r} is named twice in the form: send it once")
    return {name: values if name in LIST_FIELDS else values[-1] for name, values in form.lists()}


class TaffyJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return core_body(super().parse(stream, media_type, parser_context))


class TaffyFormParser(FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return core_body(once_each(super().parse(stream, media_type, parser_context)))


class TaffyMultiPartParser(MultiPartParser):
    """``curl -F`` and Postman's default "form-data" post multipart bodies: read as a form
    post. A file has no place in a credential exchange: refused, never ignored."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        if parsed.files:
            raise ParseError("a credential exchange takes no files")
        return core_body(once_each(parsed.data))


class TaffyEnvelope(Envelope):
    def success(self, data: Any, status: int) -> tuple[Any, int]:
        return {"errors": [], "data": data}, 200  # Taffy: every success is a 200

    def error(self, error: CatalogError) -> Any:
        return {"errors": error.field_messages(WIRE_NAMES) or [error.message], "data": None}


class TokenView(SurfaceView, account_views.TokenExchangeView):
    envelope = TaffyEnvelope()
    parser_classes = [TaffyJSONParser, TaffyFormParser, TaffyMultiPartParser]


urlpatterns = [
    path("auth/token", TokenView.as_view(), name="taffy-token"),
]
