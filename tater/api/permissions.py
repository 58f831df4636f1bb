"""What each API view declares for the one permission class
(``orgs.permissions.ScopedPermission``, which resolves the caller's org and enforces it)
and what the schema documents (``tater.api.schema``). Each view only declares, per method,

- ``required_scopes``: ``{"GET": "keys:read", "POST": "keys:write"}`` (``None`` = any
  authenticated caller); HEAD and OPTIONS use GET's scope;
- ``allowed_key_types``: key types admitted, per method or for all
  (default: ``standard``; business-data reads also admit ``public``);
- ``org_required``: whether the call works inside one organization (default True);
- ``unbound_keys``: ``"read"`` (default: unbound keys with an org hint on reads),
  ``"all"``, ``"none"``, or ``"tenant"`` (every method, no org needed: the object named
  in the path says where it lives, e.g. a key, which an unbound key reaches tenant-wide).

This module reads those declarations (``plan``); the checks themselves run in the order
of the SPEC §3 table: key type, unbound binding, org resolution, then scope, so each
failure gets its catalog code for free.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS

# Public keys (ck_) read business data only (SPEC §2a): views that serve it admit them.
DEFAULT_READ_TYPES = frozenset({"standard"})
BUSINESS_READ_TYPES = frozenset({"standard", "public"})
DEFAULT_WRITE_TYPES = frozenset({"standard"})


def _per_method(value: Any, method: str, default: Any) -> Any:
    if isinstance(value, dict):
        if method in value:
            return value[method]
        if method in ("HEAD", "OPTIONS") and "GET" in value:
            return value["GET"]
        return default
    return value if value is not None else default


def required_scope(view: Any, method: str) -> str | None:
    return _per_method(getattr(view, "required_scopes", {}), method, None)


# (view class, method) → (declaration, admitted key types): computed once per class and
# method rather than per request (recomputed if the declaration object changes).
_admitted: dict[tuple[type, str], tuple[Any, frozenset[str]]] = {}


def admitted_key_types(view: Any, method: str) -> frozenset[str]:
    declared = getattr(view, "allowed_key_types", None)
    key = (type(view), method)
    cached = _admitted.get(key)
    if cached is not None and cached[0] is declared:
        return cached[1]
    default = DEFAULT_READ_TYPES if method in SAFE_METHODS else DEFAULT_WRITE_TYPES
    types = frozenset(_per_method(declared, method, default))
    _admitted[key] = (declared, types)
    return types


# (view class, method) → the view's declarations (compared by identity/value, so a changed
# declaration is seen) and what they mean for that method: computed once, not per request.
_plans: dict[tuple[type, str], tuple[Any, Any, Any, Any, frozenset[str], bool, str | None]] = {}


def plan(view: Any, method: str) -> tuple[frozenset[str], bool, bool, str | None]:
    """(admitted key types, unbound keys allowed, org required, required scope)."""
    declared = (
        getattr(view, "allowed_key_types", None),
        getattr(view, "required_scopes", {}),
        getattr(view, "org_required", True),
        getattr(view, "unbound_keys", "read"),
    )
    key = (type(view), method)
    cached = _plans.get(key)
    if (
        cached is None
        or cached[0] is not declared[0]
        or cached[1] is not declared[1]
        or cached[2] != declared[2]
        or cached[3] != declared[3]
    ):
        mode = declared[3]
        unbound_allowed = mode in ("all", "tenant") or (mode == "read" and method in SAFE_METHODS)
        cached = (*declared, admitted_key_types(view, method), unbound_allowed, required_scope(view, method))
        _plans[key] = cached
    return cached[4], cached[5], declared[2], cached[6]
