"""SPEC §12 "no secret ever appears in logs": a key is its prefix and 32 lowercase hex, and the
logs keep bare hex (digests, request ids). A prefix of hex alone (``cafe``) would make every
key bare hex, so such a prefix is refused when the settings load."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tater.operations.logs import redact


def _load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import tater.settings"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tater.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["TATER_KEY_PREFIX_STANDARD", "TATER_KEY_PREFIX_AGENT", "TATER_KEY_PREFIX_PUBLIC"])
def test_a_key_prefix_of_hex_alone_is_refused_at_start(name: str) -> None:
    done = _load_settings(**{name: "cafe"})
    assert done.returncode != 0
    assert f"{name} needs a character other than 0-9 and a-f" in done.stderr


def test_a_prefix_with_another_character_is_taken_and_its_keys_are_redacted() -> None:
    assert _load_settings(TATER_KEY_PREFIX_STANDARD="cafe_").returncode == 0
    key = "cafe_" + "0123456789abcdef" * 2
    assert key not in redact(f"client sent {key} in a query string")
