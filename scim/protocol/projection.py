"""``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5): the parts of a resource a
request asks for."""

from __future__ import annotations

from typing import Any

from scim.protocol import filters as F
from scim.protocol.resources import ResourceSpec

ALWAYS_RETURNED = ("schemas", "id")


def parse_attribute_list(raw: Any) -> list[F.Path]:
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, list) else str(raw).split(",")
    paths = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        paths.append(F.attr_path(item.strip()))  # no filters in attribute lists
    return paths


def project(
    resource: dict[str, Any], spec: ResourceSpec, *, attributes: list[F.Path], excluded: list[F.Path]
) -> dict[str, Any]:
    """The resource with only the requested attributes, or without the excluded ones;
    ``schemas`` and ``id`` are always returned."""

    def canonical(path: F.Path) -> tuple[str, str | None] | None:
        if path.urn is not None and path.urn.lower() != spec.urn.lower():
            return None
        attr = spec.get(path.attr)
        if attr is None:
            return None
        if path.sub is None:
            return attr.name, None
        sub = attr.sub(path.sub) if attr.subs else None
        if attr.name == "meta":
            return attr.name, path.sub
        return (attr.name, sub.name) if sub else None

    if attributes:
        wanted: dict[str, set[str] | None] = {}
        for path in attributes:
            found = canonical(path)
            if found is None:
                continue
            name, sub = found
            if sub is None:
                wanted[name] = None
            elif wanted.get(name, set()) is not None:
                wanted.setdefault(name, set()).add(sub)  # type: ignore[union-attr]
        out: dict[str, Any] = {}
        for key, value in resource.items():
            if key in ALWAYS_RETURNED:
                out[key] = value
            elif key in wanted:
                subs = wanted[key]
                out[key] = value if subs is None else _only_subs(value, subs)
        return {k: v for k, v in out.items() if v not in (None, [], {})}
    out = dict(resource)
    for path in excluded:
        found = canonical(path)
        if found is None or found[0] in ALWAYS_RETURNED:
            continue
        name, sub = found
        if sub is None:
            out.pop(name, None)
        elif name in out:
            out[name] = _without_sub(out[name], sub)
    return {k: v for k, v in out.items() if v not in (None, [], {})}


def _only_subs(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [kept for item in value if (kept := _only_subs(item, subs))]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in subs}
    return value


def _without_sub(value: Any, sub: str) -> Any:
    if isinstance(value, list):
        return [kept for item in value if (kept := _without_sub(item, sub))]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != sub}
    return value
