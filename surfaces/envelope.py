"""One core, thin surfaces: what the seed systems' own paths (SPEC §5a) share.

A surface view *is* a core view (the same services, policy in ``orgs.policy``,
authentication, org resolution, rate limits and audit), declared in its system's module
(``surfaces/tatry.py``, ``tigertrust.py``, ``taffy.py``, ``taapit.py``) with only what that
system's integrators expect changed:

- its paths: the module's ``urlpatterns``;
- its envelope: the core's answer, and the catalog error (SPEC §3, ``{"error", "message",
  "details"}``), rewritten into the system's shape by the module's ``Envelope``. The catalog
  stays the source: a surface maps its codes, it never decides anything of its own;
- on the key-taking paths, the key may come as ``Authorization: Bearer <key>``
  (``surfaces.authentication``).

A new surface is a new module with its own envelope and paths, never an ``if`` in the core.
A refusal made before any view runs on a seed path (a body over the size limit, a malformed
Content-Length, a Host header Django refuses, a failure in the middleware) is in that path's
system's shape too: ``tater.middleware.in_route_format`` (used by the middleware and Django's
error views in ``tater.urls``) asks the view the path names for its ``envelope``
(``Envelope.error_body``; SPEC §3 "in that system's error format"). An unknown path under a
system's own prefix (``/v1/auth/``, ``/v1/workspaces/``, ``/auth/``) is a 404 in that system's
shape (``UnknownPathView``, routed in ``surfaces.urls``); one directly under ``/v1/`` keeps
the catalog format: ``/v1/`` is shared by two systems, so no single envelope could be chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.inspectors import ViewInspector

from tater import context
from tater.api.errors import NotFound, error_body
from tater.api.views import TaterAPIView
from tater.operations.metrics import CATALOG_CODE_ATTR


@dataclass(frozen=True)
class CatalogError:
    """A catalog error as the core answered it."""

    status: int
    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None

    @classmethod
    def from_body(cls, status: int, body: Any) -> CatalogError | None:
        if not (isinstance(body, dict) and isinstance(body.get("error"), str) and "message" in body):
            return None
        return cls(status, body["error"], str(body["message"]), dict(body.get("details") or {}), body.get("request_id"))

    def field_messages(self, names: dict[str, str] | None = None) -> list[str]:
        """Validation errors as ``"field: message"`` lines (empty for other errors), fields
        named as the surface's wire format names them (``names``: core name → wire name)."""
        names = names or {}
        fields = self.details.get("fields") or {}
        return [
            str(text) if name == "non_field_errors" else f"{names.get(name, name)}: {text}"
            for name, texts in fields.items()
            for text in texts
        ]


class Envelope:
    """A system's answer shape. The default is the catalog's own (SPEC §3)."""

    # The challenge a 401 carries on this surface (None: the core's).
    www_authenticate: ClassVar[str | None] = None

    def success(self, data: Any, status: int) -> tuple[Any, int]:
        return data, status

    def error(self, error: CatalogError) -> Any:
        return error_body(error.code, error.message, error.details or None, error.request_id)

    def error_body(self, status: int, body: Any) -> Any:
        """A catalog error body answered before any view ran (a refusal of the request itself,
        e.g. a body over the size limit) in this system's shape; other bodies unchanged."""
        error = CatalogError.from_body(status, body)
        return body if error is None else self.error(error)

    def present(self, response: Response) -> Response:
        """The core's response in this system's shape, headers and cookies kept."""
        status = response.status_code
        code: str | None = None
        if status >= 400:
            error = CatalogError.from_body(status, response.data)
            if error is None:
                return response
            body: Any = self.error(error)
            code = error.code
        elif status < 300 and response.data is not None:
            body, status = self.success(response.data, status)
        else:
            return response  # 204, redirects: nothing to wrap
        presented = Response(body, status=status)
        for name, value in response.items():  # Retry-After, WWW-Authenticate, ...
            presented[name] = value
        if status == 401 and self.www_authenticate:
            presented["WWW-Authenticate"] = self.www_authenticate
        presented.cookies = response.cookies
        presented.exception = getattr(response, "exception", False)
        if code is not None:
            # The metrics count key-auth outcomes and refusals by catalog code (SPEC §12),
            # which the system's shape may no longer carry (taap.it's {"detail"}, Taffy's
            # {"errors"}): keep it beside the body.
            setattr(presented, CATALOG_CODE_ATTR, code)
        return presented


class SurfaceView:
    """Mixed in before a core view: the system's envelope on every answer of the view,
    errors included (405s, refused keys, validation), and the API audit channel."""

    envelope: ClassVar[Envelope] = Envelope()
    # Tater's OpenAPI schema documents Tater's API; each surface has its page in docs/.
    schema: ViewInspector | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Calls on the seed paths are API calls wherever they live (/v1/, /auth/): their
        # writes (a key made by credential exchange) are audited with the api channel. And, as
        # under /api/ (tater.middleware.ContextUserMiddleware), a browser session travelling
        # with them names nobody: only the view's own credential says who acts, so a failed
        # sign-in or a lockout is never put on a signed-in bystander (SPEC §7 "who").
        ctx = context.current()
        ctx.channel = "api"
        ctx.user_id = None
        ctx.extra.pop("user_email", None)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response):
            response = self.envelope.present(response)
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class UnknownPathView(SurfaceView, TaterAPIView):
    """A path under a system's own prefix that names none of its views (``surfaces.urls``):
    404 in the system's shape, whatever the method, before any credential is read (a miss
    counts no failed authentication, as under /api/)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = []

    @property
    def default_response_headers(self) -> dict[str, str]:
        return {}  # no Allow: no method is served here

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise NotFound()
