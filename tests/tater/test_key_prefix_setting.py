"""SPEC §12 "no secret ever appears in logs": a key is its prefix and 32 lowercase hex, and the
logs keep bare hex (digests, request ids). A prefix of hex alone (``cafe``) would make every
key bare hex, so such a prefix is refused when the settings load."""

from __future__ import annotations

import pytest

from tater.operations.logs import redact
from tests.tater.starting import start


@pytest.mark.parametrize("name", ["TATER_KEY_PREFIX_STANDARD", "TATER_KEY_PREFIX_AGENT", "TATER_KEY_PREFIX_PUBLIC"])
def test_a_key_prefix_of_hex_alone_is_refused_at_start(name: str) -> None:
    done = start(**{name: "cafe"})
    assert done.returncode != 0
    assert f"{name} needs a character other than 0-9 and a-f" in done.stderr


def test_a_prefix_with_another_character_is_taken_and_its_keys_are_redacted() -> None:
    assert start(TATER_KEY_PREFIX_STANDARD="cafe_").returncode == 0
    key = "cafe_" + "0123456789abcdef" * 2
    assert key not in redact(f"client sent {key} in a query string")
