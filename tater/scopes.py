"""Permission scopes (SPEC §2): ``resource:action``; ``write`` implies ``read``.

Scope *specs* are what users write and keys store: ``*`` (full access), ``*:read``
(read only), or concrete scopes such as ``scans:write``. ``expand`` turns specs into the
concrete set that permission checks compare against.
"""

from __future__ import annotations

from collections.abc import Iterable

RESOURCES = ("organizations", "members", "keys", "audit", "scans")
ACTIONS = ("read", "write")
ALL_SCOPES: frozenset[str] = frozenset(f"{r}:{a}" for r in RESOURCES for a in ACTIONS)
READ_SCOPES: frozenset[str] = frozenset(f"{r}:read" for r in RESOURCES)
FULL_ACCESS = "*"
READ_ONLY = "*:read"
PRESETS = {"full": [FULL_ACCESS], "read_only": [READ_ONLY]}


class InvalidScope(ValueError):
    pass


def validate_specs(specs: Iterable[str]) -> list[str]:
    """Return the specs normalised (sorted, deduplicated) or raise ``InvalidScope``."""
    cleaned: set[str] = set()
    for spec in specs:
        if not isinstance(spec, str):
            raise InvalidScope(f"Scope must be a string, got {spec!r}")
        # As listed: "scans:read " is refused, as a type or status with a space is (README,
        # Design: one spelling per value); parse_cli trims what a command line separates.
        if spec in (FULL_ACCESS, READ_ONLY) or spec in ALL_SCOPES:
            cleaned.add(spec)
            continue
        raise InvalidScope(
            f"Unknown scope {spec!r}; use '*', '*:read' or resource:action with resource in "
            f"{', '.join(RESOURCES)} and action read or write"
        )
    if not cleaned:
        raise InvalidScope("At least one scope is required")
    return sorted(cleaned)


def expand(specs: Iterable[str]) -> frozenset[str]:
    scopes: set[str] = set()
    for spec in specs:
        if spec == FULL_ACCESS:
            return ALL_SCOPES
        if spec == READ_ONLY:
            scopes |= READ_SCOPES
        elif spec in ALL_SCOPES:
            scopes.add(spec)
            resource, action = spec.split(":")
            if action == "write":
                scopes.add(f"{resource}:read")
    return frozenset(scopes)


def is_read_only(specs: Iterable[str]) -> bool:
    return expand(specs) <= READ_SCOPES


def parse_cli(value: str) -> list[str]:
    """``"*"``, ``"*:read"`` or ``"scans:read,keys:write"`` as given on a command line."""
    return validate_specs(part.strip() for part in value.split(",") if part.strip())


def summary(specs: Iterable[str]) -> str:
    specs = list(specs)
    if FULL_ACCESS in specs:
        return "Full access"
    if specs == [READ_ONLY]:
        return "Read only"
    return "Limited: " + ", ".join(sorted(specs))
