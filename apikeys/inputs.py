"""The checks of what a key write is given (its name, IP allowlist, metadata, usage limit):
each returns the clean value or raises ``InvalidInput`` naming the field. The services
(apikeys.services) call them on every channel; the UI forms reuse them for their messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from apikeys.limits import parse_rate_limit
from apikeys.models import UsageRefill
from tater import names
from tater.client_ip import canonical_network
from tater.exceptions import HoldsSecret, InvalidInput
from tater.secret_detectors import holds_secret

# The API's limit, held on every channel: each change compares old and new lists pairwise
# (orgs.policy.allowlist_widens) and each request scans the list.
MAX_ALLOWED_IPS = 100


def clean_allowed_ips(values: Iterable[str]) -> list[str]:
    values = list(values)
    if len(values) > MAX_ALLOWED_IPS:
        raise InvalidInput(
            f"An IP allowlist holds at most {MAX_ALLOWED_IPS} addresses or networks ({len(values)} given)",
            field="allowed_ips",
        )
    cleaned = []
    for value in values:
        try:
            cleaned.append(str(canonical_network(str(value).strip())))
        except ValueError:
            raise InvalidInput(f"{value!r} is not an IP address or CIDR network", field="allowed_ips") from None
    return sorted(set(cleaned))


METADATA_MAX_BYTES = 4096


def clean_name(value: str | None) -> str:
    """A key's name: one line of 1 to 100 characters (``tater.names``), holding no secret of
    this deployment's keys: it is in the key's audit entries, lists and mails (SPEC §2)."""
    return names.clean_name(value)


def clean_rate_limit(value: str) -> str:
    """A key's rate limit override ("" for none) as written: "5/min", "1000/hour", "5/60s",
    in ASCII without surrounding spaces (the limiter reads other scripts' digits too, and
    "٥/min" or " 5/min" would be stored as sent: one spelling per value, README Design)."""
    if not value:
        return ""
    if not value.isascii() or value != value.strip():
        raise InvalidInput('Rate limit must look like "5/min", "1000/hour" or "5/60s"', field="rate_limit")
    parse_rate_limit(value)
    return value


def clean_usage_limit(limit: Any, refill: Any) -> tuple[int | None, str]:
    """A usage limit (a positive whole number or None) and its refill ("", daily, monthly)."""
    refill = refill or ""
    if refill not in UsageRefill.values:
        raise InvalidInput('Usage refill must be "", "daily" or "monthly"', field="usage_refill")
    if limit is None:
        if refill:
            raise InvalidInput("A refill needs a usage limit", field="usage_refill")
        return None, ""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 2_000_000_000:
        raise InvalidInput("Usage limit must be a whole number from 1 to 2,000,000,000", field="usage_limit")
    return limit, refill


def clean_metadata(value: Any) -> dict[str, Any]:
    """An integrator's JSON object, at most 4 KB as compact UTF-8 JSON as stored (SPEC §14):
    numbers written out in plain decimal notation, as PostgreSQL keeps and returns them. It is
    returned by validate to whoever holds the key: never a place for secrets (documented). A
    secret of this deployment's keys in it is refused, never echoed: its names go into the
    key's audit entries and its values to every reader of the key (SPEC §2, §2a)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("Metadata must be a JSON object", field="metadata")
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        size = len(text.encode())
    except (TypeError, ValueError):
        raise InvalidInput("Metadata must be plain JSON", field="metadata") from None
    size += _written_out_growth(value)
    if size > METADATA_MAX_BYTES:
        raise InvalidInput(
            f"Metadata must be at most {METADATA_MAX_BYTES} bytes as JSON ({size} given)", field="metadata"
        )
    if holds_secret(text):
        raise HoldsSecret(
            "Metadata holds an API key or SCIM token: it is kept in the audit log and shown to the key's "
            "readers, so never put one in it",
            field="metadata",
        )
    return value


def _written_out_growth(value: Any) -> int:
    """How many bytes the floats in ``value`` grow by when written in plain decimal notation
    (``1e+300`` as a 1 and 300 zeros: PostgreSQL's jsonb keeps numbers as exact decimals and
    writes them back so; measured sent, 300 of them fit in 4 KB and came back as ~90 KB).
    One walk, no recursion (the API's parser caps the depth, a service caller may not)."""
    growth, pending = 0, [value]
    while pending:
        node = pending.pop()
        if type(node) is float:
            growth += max(0, len(format(Decimal(repr(node)), "f")) - len(json.dumps(node)))
        elif isinstance(node, dict):
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return growth


def same_json(a: Any, b: Any) -> bool:
    """Whether two JSON values are the same to the integration that reads them: Python's
    ``==`` holds ``True == 1 == 1.0``, where JSON's ``true`` is no number (an admin turning the
    owner's ``{"tier": 1}`` into ``{"tier": true}`` is a change: review s44). Numbers compare
    by value (``1`` and ``1.0`` are one JSON number; PostgreSQL may spell it either way) and
    an object's members in any order."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) or isinstance(b, (int, float)):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
