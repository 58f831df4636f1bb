"""SCIM attribute paths and filters (RFC 7644 §3.4.2.2, §3.5.2), parsed once into small
trees that the PATCH engine evaluates on resource documents and the list views turn into
queries.

Paths: ``userName``, ``name.givenName``, ``emails[type eq "work"].value``,
``members[value eq "…"]``, each optionally prefixed by a schema URN
(``urn:ietf:params:scim:schemas:core:2.0:User:userName``). Filters: comparisons
(``eq ne co sw ew gt ge lt le``), ``pr``, ``and``, ``or``, ``not (…)`` and parentheses;
attribute names compare case-insensitively.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from scim.protocol.errors import bad_request

COMPARISONS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
MAX_NESTING = 32  # parentheses levels in one filter: far beyond any identity provider's
_NAME = re.compile(r"^\$?[A-Za-z][\w$-]*$")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<punct>[()\[\]])
      | (?P<word>[^\s()\[\]"]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Path:
    """``urn:…:attr[filter].sub``: ``attr`` and ``sub`` as written (case preserved)."""

    attr: str
    sub: str | None = None
    filter: Node | None = None
    urn: str | None = None


@dataclass(frozen=True)
class Compare:
    path: Path
    op: str
    value: Any


@dataclass(frozen=True)
class Present:
    path: Path


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    inner: Node


Node = Compare | Present | Logical | Not


def split_urn(text: str) -> tuple[str | None, str]:
    if text.lower().startswith("urn:"):
        urn, _, rest = text.rpartition(":")
        return urn, rest
    return None, text


def attr_path(text: str, *, filter_node: Node | None = None, sub_after: str | None = None) -> Path:
    urn, rest = split_urn(text)
    attr, _, sub = rest.partition(".")
    if sub_after is not None:
        if sub:
            raise bad_request(f"Invalid attribute path {text!r}", "invalidPath")
        sub = sub_after
    if not _NAME.match(attr) or (sub and not _NAME.match(sub)):
        raise bad_request(f"Invalid attribute path {text!r}", "invalidPath")
    return Path(attr=attr, sub=sub or None, filter=filter_node, urn=urn)


def parse_path(text: Any) -> Path:
    """A PATCH ``path``."""
    if not isinstance(text, str) or not text.strip() or len(text) > 512:
        raise bad_request("path must be a non-empty string", "invalidPath")
    text = text.strip()
    if "[" not in text:
        return attr_path(text)
    head, _, rest = text.partition("[")
    depth, end, quoted = 1, -1, False
    for i, ch in enumerate(rest):
        if quoted:
            if ch == "\\":
                continue
            if ch == '"' and rest[i - 1] != "\\":
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                end = i
                break
    if end < 0:
        raise bad_request(f"Invalid attribute path {text!r}: unbalanced brackets", "invalidPath")
    inner, tail = rest[:end], rest[end + 1 :]
    sub = None
    if tail:
        if not tail.startswith(".") or not _NAME.match(tail[1:]):
            raise bad_request(f"Invalid attribute path {text!r}", "invalidPath")
        sub = tail[1:]
    try:
        node = parse_filter(inner)
    except Exception as exc:
        raise bad_request(f"Invalid value filter in path {text!r}", "invalidPath") from exc
    return attr_path(head, filter_node=node, sub_after=sub)


# --- Filters ----------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise bad_request(f"Invalid filter near {text[pos : pos + 20]!r}", "invalidFilter")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        if len(text) > 2048:
            raise bad_request("The filter is too long", "invalidFilter")
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise bad_request("The filter ends too early", "invalidFilter")
        self.i += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() in words:
            self.i += 1
            return token[1].lower()
        return None

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise bad_request(f"Unexpected {self.peek()[1]!r} in the filter", "invalidFilter")  # type: ignore[index]
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.keyword("or"):
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.group())
        token = self.peek()
        if token == ("punct", "("):
            return self.group()
        return self.comparison()

    def group(self) -> Node:
        if self.take() != ("punct", "("):
            raise bad_request("Expected '(' in the filter", "invalidFilter")
        # Each level recurses: a few hundred would exhaust Python's stack (a 500).
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise bad_request(f"The filter nests more than {MAX_NESTING} levels of parentheses", "invalidFilter")
        node = self.or_expr()
        self.depth -= 1
        if self.take() != ("punct", ")"):
            raise bad_request("Expected ')' in the filter", "invalidFilter")
        return node

    def comparison(self) -> Node:
        kind, text = self.take()
        if kind != "word":
            raise bad_request(f"Expected an attribute name, found {text!r}", "invalidFilter")
        if self.peek() == ("punct", "["):
            # A valuePath inside a filter (emails[type eq "work"]): its own sub-filter.
            self.take()
            inner = self.or_expr()
            if self.take() != ("punct", "]"):
                raise bad_request("Expected ']' in the filter", "invalidFilter")
            # A valuePath is itself a test: some element matches the sub-filter.
            return Present(attr_path(text, filter_node=inner))
        path = attr_path(text)
        return self._compare_on(path)

    def _compare_on(self, path: Path) -> Node:
        kind, op = self.take()
        op = op.lower()
        if op == "pr":
            return Present(path)
        if kind != "word" or op not in COMPARISONS:
            raise bad_request(f"Unknown filter operator {op!r}", "invalidFilter")
        kind, raw = self.take()
        if kind == "string":
            try:
                value: Any = json.loads(raw)
            except ValueError:
                raise bad_request("Invalid string in the filter", "invalidFilter") from None
            _storable(value)
        elif kind == "word" and raw.lower() in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[raw.lower()]
        elif kind == "word" and re.fullmatch(r"-?\d+(\.\d+)?", raw):
            value = float(raw) if "." in raw else int(raw)
        else:
            raise bad_request(f"Invalid comparison value {raw!r} in the filter", "invalidFilter")
        return Compare(path, op, value)


def _storable(value: str) -> None:
    """A string literal's escapes are decoded (``"\\u0000"``, ``"\\ud800"``): a NUL or a
    lone UTF-16 surrogate reaches no database (PostgreSQL refuses the one, UTF-8 the other,
    as a 500), so the filter is refused as the request's own NUL check refuses ``%00``."""
    if "\x00" in value:
        raise bad_request("NUL characters (\\u0000) are not accepted in the filter", "invalidFilter")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("Unpaired UTF-16 surrogate escapes are not accepted in the filter", "invalidFilter") from None


def parse_filter(text: str) -> Node:
    return _Parser(text).parse()


# --- Evaluation on documents (PATCH value filters) -----------------------------------------


def _get(item: dict[str, Any], name: str) -> Any:
    lowered = name.lower()
    for key, value in item.items():
        if key.lower() == lowered:
            return value
    return None


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        # Sub-attributes of the resources served here are caseExact false, but ids and
        # references are compared exactly (their case never varies in practice).
        a, e = actual.casefold(), expected.casefold()
    else:
        a, e = actual, expected
    if op == "eq":
        return bool(a == e)
    if op == "ne":
        return bool(a != e)
    if a is None or e is None:
        return False
    try:
        if op == "co":
            return str(e) in str(a)
        if op == "sw":
            return str(a).startswith(str(e))
        if op == "ew":
            return str(a).endswith(str(e))
        return bool({"gt": a > e, "ge": a >= e, "lt": a < e, "le": a <= e}[op])
    except TypeError:
        return False


def matches(node: Node, item: dict[str, Any]) -> bool:
    """Does one element of a multi-valued attribute (``{"type": "work", …}``) match?"""
    if isinstance(node, Logical):
        if node.op == "and":
            return matches(node.left, item) and matches(node.right, item)
        return matches(node.left, item) or matches(node.right, item)
    if isinstance(node, Not):
        return not matches(node.inner, item)
    value = _get(item, node.path.attr)
    if node.path.sub and isinstance(value, dict):
        value = _get(value, node.path.sub)
    if isinstance(node, Present):
        return value not in (None, "", [], {})
    return _compare(value, node.op, node.value)


def equalities(node: Node) -> dict[str, Any] | None:
    """``type eq "work" and primary eq true`` as ``{"type": "work", "primary": True}``: what
    a new element must hold to match the filter; None when the filter is not that simple."""
    if isinstance(node, Compare) and node.op == "eq" and node.path.sub is None and node.path.filter is None:
        return {node.path.attr: node.value}
    if isinstance(node, Logical) and node.op == "and":
        left, right = equalities(node.left), equalities(node.right)
        if left is not None and right is not None:
            return {**left, **right}
    return None
