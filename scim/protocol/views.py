"""SCIM 2.0 endpoints (RFC 7644) under ``/scim/v2/``, for one tenant: the one whose token
the request presents. Views are thin: parse the request (scim.protocol.resources, .patch,
.projection, .queries), call a selector or a service, write the resource. Every answer is ``application/scim+json``;
every error is in SCIM's error schema, whatever fails.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orgs.models import Tenant
from scim import selectors
from scim.app_settings import app_settings
from scim.documents import GroupDoc, UserDoc
from scim.models import ScimGroup, ScimToken, ScimUser
from scim.protocol import resources as R
from scim.protocol import schemas as S
from scim.protocol.authentication import HasScimToken, ScimTokenAuthentication
from scim.protocol.errors import ScimError, bad_request, not_found
from scim.protocol.params import integer, param, refuse_repeated
from scim.protocol.patch import apply_patch
from scim.protocol.projection import parse_attribute_list, project
from scim.protocol.queries import GROUP_FIELDS, USER_FIELDS, filter_query
from scim.protocol.throttling import ScimTokenThrottle
from scim.services import groups as group_services
from scim.services import users as user_services
from scim.services.common import Versions
from tater import outages
from tater.api.errors import ApiError
from tater.api.parsers import JSONParser
from tater.api.views import response_hooks
from tater.exceptions import DomainError

logger = logging.getLogger("tater.scim")
SCIM_JSON = "application/scim+json"
MAX_START = 2**31  # past any directory; keeps OFFSET within the database's integers


class ScimJSONParser(JSONParser):
    media_type = SCIM_JSON


class ScimRenderer(JSONRenderer):
    media_type = SCIM_JSON
    format = "scim"


class ScimNegotiation(BaseContentNegotiation):
    """Bodies in ``application/scim+json`` or ``application/json``; answers always in
    ``application/scim+json`` (RFC 7644 §3.1), whatever ``Accept`` says."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        return next((p for p in parsers if p.media_type == content_type), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


def as_scim_error(exc: Exception, request_id: str | None) -> ScimError:
    if isinstance(exc, ScimError):
        return exc
    if isinstance(exc, DomainError):
        return ScimError(exc.status_code, exc.message, getattr(exc, "scim_type", None))
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return ScimError(
            401,
            "Missing SCIM token: send Authorization: Bearer scim_…",
            headers={"WWW-Authenticate": 'Bearer realm="SCIM"'},
        )
    if isinstance(exc, exceptions.MethodNotAllowed):
        return ScimError(405, str(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return bad_request(f"Malformed request body: {exc.detail}", "invalidSyntax")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return ScimError(415, "Send the body as application/scim+json (or application/json)")
    if isinstance(exc, ApiError):  # 413 from the parser
        return ScimError(exc.status_code, exc.message, headers=exc.headers)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return not_found()
    if isinstance(exc, RequestDataTooBig):
        return ScimError(413, "Request body is too large")
    if isinstance(exc, SuspiciousOperation):
        return bad_request("Bad request", "invalidSyntax")
    if outages.is_outage(exc):
        logger.error("Service outage (request %s): %s", request_id, exc)
        return ScimError(
            503,
            "Service temporarily unavailable, retry shortly",
            headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)},
        )
    logger.exception("Unhandled SCIM error (request %s)", request_id)
    return ScimError(500, f"Internal server error (request {request_id})")


def scim_response(data: dict[str, Any] | None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(data, status=status, headers=headers, content_type=SCIM_JSON)


class ScimView(APIView):
    authentication_classes = [ScimTokenAuthentication]
    permission_classes = [HasScimToken]
    throttle_classes = [ScimTokenThrottle]
    parser_classes = [ScimJSONParser, JSONParser]
    renderer_classes = [ScimRenderer]
    content_negotiation_class = ScimNegotiation
    schema = None  # SCIM is described by its own discovery endpoints, not the OpenAPI document
    metadata_class = None  # no OPTIONS: SCIM defines none (a SCIM 405, not DRF's view description)

    @property
    def allowed_methods(self) -> list[str]:
        return [method for method in super().allowed_methods if method != "OPTIONS"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # PostgreSQL refuses NUL in text (as a 500): refused here for ids and filters alike.
        query = request._request.META.get("QUERY_STRING", "")
        if "\x00" in request._request.path_info or "%00" in query or "\x00" in query:
            raise bad_request("NUL characters are not accepted in the path or the query")
        if query:
            refuse_repeated(request.query_params)

    def handle_exception(self, exc: Exception) -> Response:
        error = as_scim_error(exc, getattr(self.request, "request_id", None))
        return scim_response(error.body(), status=error.status, headers=error.headers)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        for hook in response_hooks():
            hook(request, response)  # X-RateLimit-* of the token's decision
        return response

    @staticmethod
    def tenant(request: Request) -> Tenant:
        token: ScimToken = request.auth  # type: ignore[assignment]
        return token.tenant

    @staticmethod
    def base(request: Request) -> str:
        """The absolute ``…/scim/v2`` URL resource locations start with."""
        return request.build_absolute_uri(reverse("scim-root")).rstrip("/")


# --- Request parameters -----------------------------------------------------------------


class ListParams:
    """filter, startIndex, count, attributes, excludedAttributes: from the query string
    (GET) or a SearchRequest body (POST …/.search)."""

    def __init__(self, source: Any) -> None:
        if not isinstance(source, dict) and not hasattr(source, "get"):
            raise bad_request("The body must be a SearchRequest object", "invalidSyntax")
        self.filter = param(source, "filter")
        if self.filter is not None and not isinstance(self.filter, str):
            raise bad_request("filter must be a string", "invalidFilter")
        # Out-of-range values are interpreted, not refused (RFC 7644 §3.4.2.4).
        self.start = min(max(1, integer(param(source, "startIndex"), "startIndex", 1)), MAX_START)
        self.count = min(
            max(0, integer(param(source, "count"), "count", app_settings.DEFAULT_COUNT)), app_settings.MAX_COUNT
        )
        self.projection = Projection(source)

    def window(self, start: int, count: int) -> ListParams:
        """The same request over other rows (the root search pages Users, then Groups)."""
        other = copy.copy(self)
        other.start, other.count = start, count
        return other


class Projection:
    def __init__(self, source: Any) -> None:
        self.attributes = parse_attribute_list(param(source, "attributes"))
        self.excluded = parse_attribute_list(param(source, "excludedAttributes"))
        if self.attributes and self.excluded:
            raise bad_request("attributes and excludedAttributes are mutually exclusive", "invalidSyntax")

    def apply(self, resource: dict[str, Any], spec: R.ResourceSpec) -> dict[str, Any]:
        return project(resource, spec, attributes=self.attributes, excluded=self.excluded)

    def wants(self, name: str) -> bool:
        lowered = name.lower()
        if self.attributes:
            return any(p.attr.lower() == lowered for p in self.attributes)
        return not any(p.attr.lower() == lowered and p.sub is None for p in self.excluded)


def _versions(header: str | None) -> Versions:
    """An If-Match / If-None-Match header as the versions it names (``*``: any; None: absent)."""
    if header is None:
        return None
    if header.strip() == "*":
        return "*"
    versions = set()
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/").strip('"')
        if tag.isdigit():
            versions.add(int(tag))
    return frozenset(versions)


def _preconditions(request: Request) -> dict[str, Versions]:
    return {
        "if_match": _versions(request.META.get("HTTP_IF_MATCH")),
        "if_none_match": _versions(request.META.get("HTTP_IF_NONE_MATCH")),
    }


def _not_modified(request: Request, version: int) -> bool:
    """GET with If-None-Match naming the current version, or ``*`` (the resource exists)."""
    seen = _versions(request.META.get("HTTP_IF_NONE_MATCH"))
    return seen == "*" or (isinstance(seen, frozenset) and version in seen)


# --- Discovery ------------------------------------------------------------------------------


class ServiceProviderConfigView(ScimView):
    def get(self, request: Request) -> Response:
        return scim_response(S.service_provider_config(self.base(request)))


class ResourceTypesView(ScimView):
    def get(self, request: Request, resource_type: str | None = None) -> Response:
        found = S.resource_types(self.base(request))
        if resource_type is None:
            return scim_response(S.list_response(found, total=len(found)))
        match = next((rt for rt in found if rt["id"] == resource_type), None)
        if match is None:
            raise not_found(f"No resource type {resource_type!r}")
        return scim_response(match)


class SchemasView(ScimView):
    def get(self, request: Request, schema_id: str | None = None) -> Response:
        found = S.schemas(self.base(request))
        if schema_id is None:
            return scim_response(S.list_response(found, total=len(found)))
        match = next((s for s in found if s["id"] == schema_id), None)
        if match is None:
            raise not_found(f"No schema {schema_id!r}")
        return scim_response(match)


# --- Users ----------------------------------------------------------------------------------


def _user_page(tenant: Tenant, params: ListParams, base: str) -> tuple[int, list[dict[str, Any]]]:
    query = filter_query(params.filter, R.USER, USER_FIELDS)
    rows: QuerySet[ScimUser] = selectors.scim_users(tenant=tenant).filter(query).order_by("id")
    total = rows.count()
    page = list(rows[params.start - 1 : params.start - 1 + params.count]) if params.count else []
    return total, [params.projection.apply(R.user_resource(u, base), R.USER) for u in page]


def _user_answer(identity: ScimUser, projection: Projection, base: str, *, status: int = 200) -> Response:
    resource = R.user_resource(identity, base)
    headers = {"ETag": R.etag(identity.version)}
    if status == 201:
        headers["Location"] = resource["meta"]["location"]
    return scim_response(projection.apply(resource, R.USER), status=status, headers=headers)


class UsersView(ScimView):
    def get(self, request: Request) -> Response:
        params = ListParams(request.query_params)
        total, page = _user_page(self.tenant(request), params, self.base(request))
        return scim_response(S.list_response(page, total=total, start_index=params.start))

    def post(self, request: Request) -> Response:
        projection = Projection(request.query_params)  # refused before anything is written
        doc = R.user_doc(R.from_body(R.USER, request.data))
        identity = user_services.scim_user_create(tenant=self.tenant(request), doc=doc)
        return _user_answer(identity, projection, self.base(request), status=201)


class UserSearchView(ScimView):
    def post(self, request: Request) -> Response:
        params = ListParams(request.data)
        total, page = _user_page(self.tenant(request), params, self.base(request))
        return scim_response(S.list_response(page, total=total, start_index=params.start))


class UserView(ScimView):
    def _get(self, request: Request, resource_id: str) -> ScimUser:
        identity = selectors.scim_user_get(tenant=self.tenant(request), public_id=resource_id)
        if identity is None:
            raise not_found(f"No User {resource_id!r}")
        return identity

    def get(self, request: Request, resource_id: str) -> Response:
        identity = self._get(request, resource_id)
        if _not_modified(request, identity.version):
            return Response(status=304, headers={"ETag": R.etag(identity.version)})
        return _user_answer(identity, Projection(request.query_params), self.base(request))

    def put(self, request: Request, resource_id: str) -> Response:
        projection = Projection(request.query_params)
        given = R.from_body(R.USER, request.data)
        doc = R.user_doc(given)

        def change(current: ScimUser) -> UserDoc:
            # A PUT that does not mention active leaves it as it is (RFC 7644 §3.5.1 allows
            # it): replacing a profile never reprovisions someone by omission.
            return doc if "active" in given else replace(doc, active=current.active)

        identity = user_services.scim_user_update(
            identity=self._get(request, resource_id), change=change, **_preconditions(request)
        )
        return _user_answer(identity, projection, self.base(request))

    def patch(self, request: Request, resource_id: str) -> Response:
        projection = Projection(request.query_params)
        body = request.data

        def change(current: ScimUser) -> UserDoc:
            return R.user_doc(apply_patch(R.USER, R.user_document(current), body))

        identity = user_services.scim_user_update(
            identity=self._get(request, resource_id), change=change, **_preconditions(request)
        )
        return _user_answer(identity, projection, self.base(request))

    def delete(self, request: Request, resource_id: str) -> Response:
        user_services.scim_user_delete(identity=self._get(request, resource_id), **_preconditions(request))
        return Response(status=204)


# --- Groups ---------------------------------------------------------------------------------


def _group_page(tenant: Tenant, params: ListParams, base: str) -> tuple[int, list[dict[str, Any]]]:
    query = filter_query(params.filter, R.GROUP, GROUP_FIELDS)
    rows = selectors.scim_groups(tenant=tenant).filter(query).distinct().order_by("id")
    total = rows.count()
    page = list(rows[params.start - 1 : params.start - 1 + params.count]) if params.count else []
    # Entra ID lists groups with excludedAttributes=members: no member query then.
    members = selectors.group_member_ids_many(groups=page) if params.projection.wants("members") else {}
    return total, [params.projection.apply(R.group_resource(g, members.get(g.pk, []), base), R.GROUP) for g in page]


def _group_answer(group: ScimGroup, projection: Projection, base: str, *, status: int = 200) -> Response:
    member_ids = selectors.group_member_ids(group=group) if projection.wants("members") else []
    resource = R.group_resource(group, member_ids, base)
    headers = {"ETag": R.etag(group.version)}
    if status == 201:
        headers["Location"] = resource["meta"]["location"]
    return scim_response(projection.apply(resource, R.GROUP), status=status, headers=headers)


class GroupsView(ScimView):
    def get(self, request: Request) -> Response:
        params = ListParams(request.query_params)
        total, page = _group_page(self.tenant(request), params, self.base(request))
        return scim_response(S.list_response(page, total=total, start_index=params.start))

    def post(self, request: Request) -> Response:
        projection = Projection(request.query_params)
        doc = R.group_doc(R.from_body(R.GROUP, request.data))
        group = group_services.scim_group_create(tenant=self.tenant(request), doc=doc)
        return _group_answer(group, projection, self.base(request), status=201)


class GroupSearchView(ScimView):
    def post(self, request: Request) -> Response:
        params = ListParams(request.data)
        total, page = _group_page(self.tenant(request), params, self.base(request))
        return scim_response(S.list_response(page, total=total, start_index=params.start))


class GroupView(ScimView):
    def _get(self, request: Request, resource_id: str) -> ScimGroup:
        group = selectors.scim_group_get(tenant=self.tenant(request), public_id=resource_id)
        if group is None:
            raise not_found(f"No Group {resource_id!r}")
        return group

    def get(self, request: Request, resource_id: str) -> Response:
        group = self._get(request, resource_id)
        if _not_modified(request, group.version):
            return Response(status=304, headers={"ETag": R.etag(group.version)})
        return _group_answer(group, Projection(request.query_params), self.base(request))

    def put(self, request: Request, resource_id: str) -> Response:
        projection = Projection(request.query_params)
        doc = R.group_doc(R.from_body(R.GROUP, request.data))
        group = group_services.scim_group_update(
            group=self._get(request, resource_id), change=lambda current, members: doc, **_preconditions(request)
        )
        return _group_answer(group, projection, self.base(request))

    def patch(self, request: Request, resource_id: str) -> Response:
        projection = Projection(request.query_params)
        body = request.data

        def change(current: ScimGroup, member_ids: list[str]) -> GroupDoc:
            return R.group_doc(apply_patch(R.GROUP, R.group_document(current, member_ids), body))

        group = group_services.scim_group_update(
            group=self._get(request, resource_id), change=change, **_preconditions(request)
        )
        return _group_answer(group, projection, self.base(request))

    def delete(self, request: Request, resource_id: str) -> Response:
        group_services.scim_group_delete(group=self._get(request, resource_id), **_preconditions(request))
        return Response(status=204)


# --- The rest ---------------------------------------------------------------------------------


class RootSearchView(ScimView):
    """POST /.search: Users then Groups, paged as one list (RFC 7644 §3.4.3). A filter applies
    to the types that support its attributes (a filter neither supports is a 400)."""

    def post(self, request: Request) -> Response:
        params = ListParams(request.data)
        tenant, base = self.tenant(request), self.base(request)
        kinds: list[tuple[Callable[..., tuple[int, list[dict[str, Any]]]], int]] = []
        errors: list[ScimError] = []
        for page_of in (_user_page, _group_page):
            try:
                kinds.append((page_of, page_of(tenant, params.window(1, 0), base)[0]))
            except ScimError as exc:
                if exc.scim_type != "invalidFilter":
                    raise
                errors.append(exc)
        if errors and not kinds:
            raise errors[0]
        # Each type's share of the window: rows past those skipped, up to what is still wanted.
        skip = params.start - 1
        window: list[dict[str, Any]] = []
        for page_of, total in kinds:
            take = min(params.count - len(window), total - skip)
            if take > 0:
                window += page_of(tenant, params.window(skip + 1, take), base)[1]
            skip = max(0, skip - total)
        return scim_response(S.list_response(window, total=sum(n for _, n in kinds), start_index=params.start))


def _answer_with(error: Callable[[], ScimError]) -> Callable[..., Response]:
    def view(self: ScimView, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise error()

    return view


class NotImplementedView(ScimView):
    """/Bulk and /Me: not offered (ServiceProviderConfig says bulk is unsupported)."""

    get = post = put = patch = delete = _answer_with(lambda: ScimError(501, "Not implemented by this service provider"))


class NotFoundView(ScimView):
    """Anything else under /scim/: a SCIM 404 whatever the method (after authentication,
    like every endpoint)."""

    get = post = put = patch = delete = options = trace = _answer_with(lambda: not_found("No such endpoint"))
