"""The limiter is platform core (STYLE "Layers", "Hot paths"): no app, public APIs only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis.cluster import key_slot

from tater.limiter import keys

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tater" / "limiter"
APPS = {"orgs", "accounts", "audit", "apikeys", "scans", "scim", "leaks"}


def test_all_keys_of_an_entity_share_one_cluster_slot() -> None:
    for entity in ("key:3fd88c926edd3a6f", "user:42", "session:7:tenant:9"):
        slots = {
            key_slot(k.encode())
            for k in (keys.internal(entity, "log"), keys.internal(entity, "win"), keys.internal(entity, "s60x5:3"),
                      keys.tagged(entity, "gen"), keys.tagged(entity, "principal"))
        }  # fmt: skip
        assert slots == {key_slot(entity.encode())}


def test_keys_that_would_break_the_hash_tag_are_refused() -> None:
    for entity in ("", "a{b", "a}b", "}"):
        with pytest.raises(ValueError):
            keys.tagged(entity, "gen")
    for suffix in ("", "_log", "_win"):
        with pytest.raises(ValueError):
            keys.tagged("user:1", suffix)


def test_the_package_imports_no_app() -> None:
    code = "import json, sys; import tater.limiter, tater.redis_client; print(json.dumps(sorted(sys.modules)))"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded = [m for m in json.loads(out.stdout) if m.split(".")[0] in APPS or m.startswith("tater")]
    assert not [m for m in loaded if m.split(".")[0] in APPS]
    assert {m for m in loaded if m.startswith("tater")} <= {"tater", "tater.redis_client"} | {
        f"tater.limiter{suffix}"
        for suffix in ("", ".base", ".cache", ".core", ".counters", ".inprocess", ".keys", ".limiter", ".redis_backend")
    }


def test_public_apis_only_and_small_modules() -> None:
    sources = [*PACKAGE.glob("*.py"), PACKAGE / "limiter.lua", ROOT / "tater" / "redis_client.py"]
    for source in sources:
        text = source.read_text()
        assert len(text.splitlines()) <= 500, source
        for private in ("_sock", "make_connection", "send_packed_command", "._cache", "_store"):
            assert private not in text, (source, private)
