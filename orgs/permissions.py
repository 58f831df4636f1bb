"""The one permission class of every API view (``REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]``).

Views declare what they need (``tater.api.permissions``: ``required_scopes``,
``allowed_key_types``, ``org_required``, ``unbound_keys``); this class checks it in the
order of the SPEC §3 table: key type, unbound binding, org resolution (``orgs.access``,
SPEC §4), then scope, so each failure gets its catalog code for free.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from orgs import access as access_mod
from orgs import policy
from tater.api.errors import Forbidden, Unauthorized
from tater.api.permissions import plan


class ScopedPermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        # A clone (DRF's OPTIONS metadata) carries its own method; else the request's.
        method = request.__dict__.get("method") or request._request.method or "GET"
        lowered = method.lower()
        if lowered not in view.http_method_names or not hasattr(view, lowered):
            return True  # let DRF answer 405 METHOD_NOT_ALLOWED
        types, unbound_allowed, org_required, scope = plan(view, method)
        auth = request.auth
        if access_mod.is_key_principal(auth):
            if auth.type not in types:
                raise Forbidden(
                    f"API key type {auth.type!r} is not allowed on this endpoint", code="KEY_TYPE_NOT_ALLOWED"
                )
            if auth.is_unbound and getattr(view, "unbound_keys", "read") == "tenant":
                org_required = False
            access = access_mod.for_key(request, auth, org_required=org_required, unbound_allowed=unbound_allowed)
        else:
            if not (request.user and request.user.is_authenticated):
                raise Unauthorized("Missing API key")
            access = access_mod.for_session(request, org_required=org_required)
        request.access = access  # type: ignore[attr-defined]
        if scope is not None and scope not in access.scopes:
            if scope in policy.ROTATED_OUT_WITHHELD and getattr(auth, "matched_previous", False):
                raise Forbidden(
                    "This secret was rotated out: it keeps working until its grace period ends, "
                    "but only the key's current secret or its owner's session may manage keys and members",
                    details={"required_permissions": [scope], "current_permissions": sorted(access.scopes)},
                )
            raise Forbidden(
                f"Missing permission {scope}",
                details={"required_permissions": [scope], "current_permissions": sorted(access.scopes)},
            )
        return True
